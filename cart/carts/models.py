from django.db import models


class Cart(models.Model):
    """One per user (the id the user service vouches for). Stores what and how many, never prices."""

    user_id = models.BigIntegerField(unique=True)
    # The checkout of these lines (carts.services.begin_checkout): the key the order service places
    # them under, so that every checkout of one cart, whatever its own key, places the same order.
    checkout_key = models.CharField(max_length=128, blank=True, default="")
    checkout_started_at = models.DateTimeField(null=True, blank=True)
    # Set when the lines became that order (they are gone then).
    checkout_order_id = models.BigIntegerField(null=True, blank=True)
    checkout_order_number = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"cart of user {self.user_id}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product_id"], name="one_line_per_product")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"
