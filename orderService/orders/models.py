from django.db import models


class OrderStatus(models.TextChoices):
    PENDING = "PENDING"
    PAID = "PAID"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"  # the whole payment went back (only the payment service moves here)


# The only moves there are (docs/orders.md, "The state machine"). Everything else is 409 illegal_transition.
TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.CONFIRMED, OrderStatus.REFUNDED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.REFUNDED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED, OrderStatus.REFUNDED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}


class Order(models.Model):
    order_number = models.CharField(max_length=32, unique=True)
    user_id = models.BigIntegerField(db_index=True)
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_address = models.JSONField()
    billing_address = models.JSONField()
    payment_method = models.CharField(max_length=32, default="card")
    payment_reference = models.CharField(max_length=128, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    carrier = models.CharField(max_length=64, blank=True)
    # NULL, not "": many orders without a key must not collide in the unique (user_id, key) index.
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    request_hash = models.CharField(max_length=64, blank=True)
    needs_refund = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user_id", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "idempotency_key"], name="one_order_per_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return self.order_number


class OrderLine(models.Model):
    """A snapshot taken at placement: what the product was called and cost then. Never changes."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product_id = models.BigIntegerField()
    title = models.CharField(max_length=200)
    sku = models.CharField(max_length=64)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderEvent(models.Model):
    """One move of the state machine: from, to, when, who, why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    # NULL for the first event: there is no state before placement.
    from_status = models.CharField(  # noqa: DJ001
        max_length=16, choices=OrderStatus.choices, null=True, blank=True
    )
    to_status = models.CharField(max_length=16, choices=OrderStatus.choices)
    at = models.DateTimeField(auto_now_add=True)
    by = models.CharField(max_length=128)
    notes = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status} -> {self.to_status}"


class OutboxCall(models.Model):
    """A call to the product service that must happen but could not be delivered yet: the stock
    release of a cancelled order or of a failed placement. ``manage.py drain_outbox`` (every minute
    under ``make run``) and the order service itself, right after the product service answers
    again, deliver it (docs/orders.md, "Compensation")."""

    class Kind(models.TextChoices):
        RELEASE_STOCK = "release_stock"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    order_ref = models.CharField(max_length=32)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["next_attempt_at", "id"]
        indexes = [models.Index(fields=["done_at", "next_attempt_at"])]
        constraints = [
            # One call per kind and order: asking twice for the same release is one release.
            models.UniqueConstraint(fields=["kind", "order_ref"], name="one_outbox_call_per_order")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.order_ref}"
