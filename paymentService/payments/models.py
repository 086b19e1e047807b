import uuid

from django.db import models


class PaymentStatus(models.TextChoices):
    CREATED = "CREATED"  # our row exists; the provider's checkout does not yet
    PENDING = "PENDING"  # the checkout is open at the provider
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    NEEDS_REFUND = "NEEDS_REFUND"  # money arrived that must go back (wrong amount, unpayable order)
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"  # some of what was captured went back (confirmed)
    REFUNDED = "REFUNDED"  # all of it went back (confirmed by the provider's webhook)


OPEN_STATUSES = (PaymentStatus.CREATED, PaymentStatus.PENDING)

# Every move a payment may make (docs/payments.md, "States"); ``services.transitions.move_payment``
# refuses the rest. A failure or expiry may still be followed by a success (the provider does not promise
# order, and a late success is money that arrived): it becomes SUCCEEDED or NEEDS_REFUND.
TRANSITIONS: dict[str, frozenset[str]] = {
    PaymentStatus.CREATED: frozenset(
        {
            PaymentStatus.PENDING,
            PaymentStatus.SUCCEEDED,
            PaymentStatus.FAILED,
            PaymentStatus.EXPIRED,
            PaymentStatus.NEEDS_REFUND,
        }
    ),
    PaymentStatus.PENDING: frozenset(
        {
            PaymentStatus.SUCCEEDED,
            PaymentStatus.FAILED,
            PaymentStatus.EXPIRED,
            PaymentStatus.NEEDS_REFUND,
        }
    ),
    PaymentStatus.FAILED: frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.NEEDS_REFUND}),
    PaymentStatus.EXPIRED: frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.NEEDS_REFUND}),
    # NEEDS_REFUND: the order service, told after the commit, refused the payment (its order was
    # cancelled meanwhile).
    PaymentStatus.SUCCEEDED: frozenset(
        {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED, PaymentStatus.NEEDS_REFUND}
    ),
    PaymentStatus.NEEDS_REFUND: frozenset(
        {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
    ),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset({PaymentStatus.REFUNDED}),
    PaymentStatus.REFUNDED: frozenset(),
}

# What can be refunded: money the provider captured and has not all given back.
REFUNDABLE_STATUSES = (
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.NEEDS_REFUND,
)


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
        max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    provider_reference = models.CharField(max_length=255, blank=True, db_index=True)
    # The provider's own payment (Stripe's PaymentIntent, Razorpay's pay_...): what a refund names.
    provider_payment_id = models.CharField(max_length=255, blank=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    # What the provider took (set with the success or NEEDS_REFUND) and what confirmed refunds gave
    # back: a refund never takes more than the difference.
    captured_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    failure_reason = models.CharField(max_length=255, blank=True)
    # Sent as the provider's idempotency key: a retried checkout creation returns the same session.
    checkout_key = models.CharField(max_length=64, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Refunding from the payment admin (STAFF through the "Payment staff" group, ADMIN).
        permissions = [("refund_payment", "Can refund a payment")]
        constraints = [
            # No event or request may give back more than the provider took (services.refunds
            # refuses it first; this holds if code ever forgets).
            models.CheckConstraint(
                condition=models.Q(refunded_amount__lte=models.F("captured_amount"))
                | models.Q(captured_amount__isnull=True, refunded_amount=0),
                name="refunded_within_captured",
            )
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} of order {self.order_id} ({self.status})"


class PaymentStatusChange(models.Model):
    """One row per move of a payment (``services.transitions.move_payment`` writes it with the move)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=24)
    to_status = models.CharField(max_length=24)
    reason = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"payment {self.payment_id}: {self.from_status} -> {self.to_status}"


class RefundStatus(models.TextChoices):
    REQUESTED = "REQUESTED"  # our row exists; the provider has not answered yet
    PENDING = "PENDING"  # the provider took it; its webhook confirms it
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    RefundStatus.REQUESTED: frozenset(
        {RefundStatus.PENDING, RefundStatus.SUCCEEDED, RefundStatus.FAILED}
    ),
    RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.SUCCEEDED: frozenset(),
    RefundStatus.FAILED: frozenset(),
}
# Refunds that count against what is left to refund (a failed one gave nothing back).
COMMITTED_REFUND_STATUSES = (RefundStatus.REQUESTED, RefundStatus.PENDING, RefundStatus.SUCCEEDED)


class RefundOrigin(models.TextChoices):
    SHOP = "shop"  # asked for by the shop: staff, or the service itself (automatic)
    PROVIDER = "provider"  # made outside the shop, at the provider's dashboard


class Refund(models.Model):
    """Money going back for a payment, through its gateway. One row per request key and payment."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    origin = models.CharField(
        max_length=16, choices=RefundOrigin.choices, default=RefundOrigin.SHOP, db_index=True
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # The currency the refund was made in: the payment's (a provider's word on a refund in another
    # currency is not counted as one: docs/payments.md, "Refunds").
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=255)
    status = models.CharField(
        max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    # The Idempotency-Key of the request that asked for it ("automatic:<payment>" for the service's
    # own, "provider:<id>" for one made at the provider's dashboard).
    request_key = models.CharField(max_length=160)
    # Sent as the provider's idempotency key: a retried refund is the same refund.
    provider_key = models.CharField(max_length=64, default=uuid.uuid4, editable=False)
    provider_refund_id = models.CharField(max_length=255, blank=True, db_index=True)
    requested_by = models.CharField(max_length=64)
    automatic = models.BooleanField(default=False)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "request_key"], name="one_refund_per_request_key"
            )
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} of payment {self.payment_id} ({self.status})"

    @property
    def started_by(self) -> str:
        """Who or what asked for it, in words: the service itself (money that landed on an
        unpayable order or with the wrong amount), a staff member, or the provider's dashboard."""
        if self.automatic:
            return "automatic (payment service)"
        kind, _, who = self.requested_by.partition(":")
        if kind == "staff":
            return f"staff user {who}"
        if kind == "provider":
            return f"{who} dashboard"
        return self.requested_by


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


class OrderNotice(models.Model):
    """What the order service must be told about a payment: written in the transaction that moves
    the payment, delivered after the commit and retried until it lands (``payments.outbox``), so
    the order service is never called while a row lock is held and never told twice by mistake
    (each call is idempotent by payment reference anyway)."""

    class Kind(models.TextChoices):
        # In the order they can happen to one payment: a notice is delivered after the earlier ones.
        PAYMENT_FAILED = "payment-failed"
        PAYMENT_SUCCEEDED = "payment-succeeded"
        REFUNDED = "refunded"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="order_notices")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    reason = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    # The order service's answer once delivered: "accepted", or the code of its refusal.
    answer = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["done_at", "id"])]
        constraints = [
            models.UniqueConstraint(fields=["payment", "kind"], name="one_notice_per_payment_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of payment {self.payment_id}"
