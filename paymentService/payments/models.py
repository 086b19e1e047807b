import uuid

from django.db import models


class PaymentStatus(models.TextChoices):
    CREATED = "CREATED"  # our row exists; the provider's checkout does not yet
    PENDING = "PENDING"  # the checkout is open at the provider
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    NEEDS_REFUND = "NEEDS_REFUND"  # money arrived that must go back (wrong amount, unpayable order)


OPEN_STATUSES = (PaymentStatus.CREATED, PaymentStatus.PENDING)


class Payment(models.Model):
    order_id = models.BigIntegerField(db_index=True)
    # Set while the payment is open, NULL after: a unique index that allows one open payment per
    # order on every database (MySQL has no partial unique indexes).
    open_for_order = models.BigIntegerField(null=True, blank=True, unique=True)
    user_id = models.BigIntegerField(db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    gateway = models.CharField(max_length=32)
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    provider_reference = models.CharField(max_length=255, blank=True, db_index=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    # Sent as the provider's idempotency key: a retried checkout creation returns the same session.
    checkout_key = models.CharField(max_length=64, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"payment {self.pk} of order {self.order_id} ({self.status})"


class WebhookEvent(models.Model):
    """Each provider event is applied once: its id is unique, and ``processed_at`` says it was."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=64, blank=True)
    # Why a signed event was rejected (outcome "rejected"): for the person who looks into it.
    rejection_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="one_row_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"
