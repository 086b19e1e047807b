"""The answers the integration service passes on from the cart, order and payment services, as
response schemas (documentation only: the bodies are forwarded as those services wrote them, and
the fuzzing's response-schema check holds them to these shapes)."""

from rest_framework import serializers


def money(**kwargs: object) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class CartLine(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    title = serializers.CharField(allow_null=True)
    sku = serializers.CharField(allow_null=True)
    image_url = serializers.CharField(allow_null=True)
    quantity = serializers.IntegerField()
    unit_price = money(allow_null=True)
    subtotal = money(allow_null=True)
    available = serializers.BooleanField()
    stock_available = serializers.IntegerField()
    problem = serializers.CharField(allow_null=True)


class PricedCart(serializers.Serializer):
    """The cart service's priced cart (docs/cart.md)."""

    id = serializers.IntegerField()
    items = CartLine(many=True)
    item_count = serializers.IntegerField()
    subtotal = money()
    total = money()
    currency = serializers.CharField()
    has_unavailable_items = serializers.BooleanField()


class OrderLine(serializers.Serializer):
    product_id = serializers.IntegerField()
    title = serializers.CharField()
    sku = serializers.CharField(allow_blank=True)
    price = money()
    quantity = serializers.IntegerField()
    subtotal = money()


class OrderEvent(serializers.Serializer):
    status = serializers.CharField()
    from_status = serializers.CharField(allow_null=True, allow_blank=True)
    at = serializers.DateTimeField()
    by = serializers.CharField(allow_blank=True)
    notes = serializers.CharField(allow_blank=True)


class PlacedOrder(serializers.Serializer):
    """The order service's order (docs/orders.md), and whether the cart was emptied."""

    id = serializers.IntegerField()
    order_number = serializers.CharField()
    user_id = serializers.IntegerField()
    status = serializers.CharField()
    currency = serializers.CharField()
    subtotal = money()
    tax_amount = money()
    shipping_amount = money()
    total_amount = money()
    shipping_address = serializers.JSONField()
    billing_address = serializers.JSONField()
    payment_method = serializers.CharField()
    tracking_number = serializers.CharField(allow_blank=True)
    carrier = serializers.CharField(allow_blank=True)
    items = OrderLine(many=True)
    status_history = OrderEvent(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    cart_cleared = serializers.BooleanField(
        help_text="false: the order stands but the cart could not be emptied"
    )


class Refund(serializers.Serializer):
    refund_id = serializers.IntegerField()
    payment_id = serializers.IntegerField()
    origin = serializers.CharField()
    amount = money()
    currency = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    provider_refund_id = serializers.CharField(allow_blank=True)
    requested_by = serializers.CharField(allow_blank=True)
    automatic = serializers.BooleanField()
    failure_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class Payment(serializers.Serializer):
    """The payment service's payment (docs/payments.md): open it at ``checkout_url``."""

    payment_id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    status = serializers.CharField()
    gateway = serializers.CharField()
    amount = money()
    currency = serializers.CharField()
    checkout_url = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)
    provider_reference = serializers.CharField(allow_blank=True)
    provider_payment_id = serializers.CharField(allow_blank=True)
    captured_amount = money(allow_null=True)
    refunded_amount = money()
    refunds = Refund(many=True)
    failure_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ErrorBody(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class PaymentError(serializers.Serializer):
    """Why the payment could not be started: the payment service's status and error."""

    status = serializers.IntegerField()
    error = ErrorBody()


class CheckoutAnswer(serializers.Serializer):
    order = PlacedOrder()
    payment = Payment(allow_null=True)
    payment_error = PaymentError(
        required=False, help_text="only when payment is null: the order stands, PENDING"
    )
