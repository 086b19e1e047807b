from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a keyed request, so that a retry with the same key gets it again."""

    user_id = models.BigIntegerField()
    endpoint = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "endpoint", "key"], name="one_answer_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key} ({self.status_code})"
