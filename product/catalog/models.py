from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from catalog.validators import validate_image_url


class Category(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A thing for sale. ``stock_on_hand`` is what staff count; ``stock_reserved`` is promised to
    placed orders that are not paid yet; what can still be sold is the difference."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220)
    sku = models.CharField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    currency = models.CharField(max_length=3, default="USD")
    image_url = models.URLField(max_length=500, blank=True, validators=[validate_image_url])
    is_active = models.BooleanField(default=True)
    stock_on_hand = models.PositiveIntegerField(default=0)
    stock_reserved = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["is_active", "category"]),
            models.Index(fields=["price"]),
            models.Index(fields=["title"]),
            models.Index(fields=["created_at"]),
        ]
        constraints = [
            # The database itself refuses an oversell, whatever code runs.
            models.CheckConstraint(
                condition=Q(stock_reserved__lte=F("stock_on_hand")), name="reserved_within_on_hand"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.sku})"

    @property
    def available(self) -> int:
        return self.stock_on_hand - self.stock_reserved


class Reservation(models.Model):
    """Stock held for one order (``order_ref``) until it is paid (commit) or not (release)."""

    class Status(models.TextChoices):
        RESERVED = "RESERVED"
        COMMITTED = "COMMITTED"
        RELEASED = "RELEASED"

    order_ref = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RESERVED)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.order_ref} ({self.status})"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservation_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.UniqueConstraint(fields=["reservation", "product"], name="one_line_per_product")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"


class CatalogVersion(models.Model):
    """One row whose number changes with every catalog write; cached answers are keyed by it, so a
    write anywhere (API, admin, stock) makes every process's cached catalog stale at once."""

    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"catalog version {self.value}"
