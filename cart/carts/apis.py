"""The cart service's HTTP API: every answer is the whole priced cart of the caller."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carts import services
from carts.models import Cart
from carts.selectors import cart_lines, priced_cart
from shop_common.fields import STOCK_LINE_MAX_QUANTITY, IdField
from shop_common.permissions import IsAuthenticatedUser
from shop_common.product_catalog import CatalogProduct
from shop_common.related import known_related
from shop_common.schema import raises

STOCK_OR_CURRENCY = raises("Not enough stock for a line, or the cart would mix currencies.")


class CartLineOutput(serializers.Serializer):
    id = serializers.IntegerField(source="item.id")
    product_id = serializers.IntegerField(source="item.product_id")
    title = serializers.CharField(source="product.title", allow_null=True)
    sku = serializers.CharField(source="product.sku", allow_null=True)
    image_url = serializers.CharField(source="product.image_url", allow_null=True)
    quantity = serializers.IntegerField(source="item.quantity")
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    available = serializers.BooleanField(help_text="can be bought in this quantity now")
    stock_available = serializers.IntegerField()
    problem = serializers.CharField(
        allow_null=True, help_text="product_not_found, product_inactive or insufficient_stock"
    )


class CartOutput(serializers.Serializer):
    id = serializers.IntegerField()
    items = CartLineOutput(source="lines", many=True)
    item_count = serializers.IntegerField()
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(source="subtotal", max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    has_unavailable_items = serializers.BooleanField()


class CartApi(APIView):
    permission_classes = [IsAuthenticatedUser]
    OutputSerializer = CartOutput

    def answer(self, cart: Cart, products: dict[int, CatalogProduct] | None = None) -> Response:
        """Every endpoint answers the caller's whole cart, priced (``products``: the facts of the
        service's own batch call, when it made one)."""
        # Documented by OutputSerializer, built by PricedCart.as_answer (its measured saving there).
        return Response(priced_cart(cart, products).as_answer())


class LineInput(serializers.Serializer):
    product_id = IdField()
    quantity = serializers.IntegerField(min_value=1, max_value=STOCK_LINE_MAX_QUANTITY, default=1)


class CartDetailApi(CartApi):
    @extend_schema(responses=CartOutput)
    def get(self, request: Request) -> Response:
        cart = cart_lines(user_id=request.user.id)
        if cart is None:  # no lines: the cart (made if need be), known to be empty
            cart = services.cart_for(user_id=request.user.id)
            known_related(cart, "items", [])
        return self.answer(cart)


class AddToCartApi(CartApi):
    """``{product_id, quantity}``, or the first release's ``{items: [{product_id, quantity}]}``
    (all lines or none). Prices, titles and totals in the body are ignored."""

    class InputSerializer(serializers.Serializer):
        product_id = IdField(required=False)
        quantity = serializers.IntegerField(
            min_value=1, max_value=STOCK_LINE_MAX_QUANTITY, required=False
        )
        items = LineInput(many=True, required=False, allow_empty=False, max_length=100)

        def validate(self, attrs: dict) -> dict:
            if ("items" in attrs) == ("product_id" in attrs):
                raise ValidationError({"product_id": ["Send product_id (and quantity), or items."]})
            return attrs

    @extend_schema(request=InputSerializer, responses={200: CartOutput, 409: STOCK_OR_CURRENCY})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = data.validated_data.get("items") or [
            {
                "product_id": data.validated_data["product_id"],
                "quantity": data.validated_data.get("quantity", 1),
            }
        ]
        cart, products = services.add_items(
            user_id=request.user.id, additions=[services.Addition(**line) for line in lines]
        )
        return self.answer(cart, products)


class UpdateCartItemApi(CartApi):
    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(
            min_value=0, max_value=STOCK_LINE_MAX_QUANTITY, help_text="0 removes the line"
        )

    @extend_schema(request=InputSerializer, responses={200: CartOutput, 409: STOCK_OR_CURRENCY})
    def post(self, request: Request, item_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart, products = services.update_item(
            user_id=request.user.id, item_id=item_id, quantity=data.validated_data["quantity"]
        )
        return self.answer(cart, products)


class RemoveCartItemApi(CartApi):
    # The status said outright: drf-spectacular documents a DELETE as 204 by default, and this one
    # answers the priced cart.
    @extend_schema(responses={200: CartOutput})
    def delete(self, request: Request, item_id: int) -> Response:
        return self.answer(services.remove_item(user_id=request.user.id, item_id=item_id))


class ClearCartApi(CartApi):
    @extend_schema(request=None, responses=CartOutput)
    def post(self, request: Request) -> Response:
        return self.answer(services.clear_cart(user_id=request.user.id), products={})


class CheckoutLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    quantity = serializers.IntegerField()


class CheckoutOutput(serializers.Serializer):
    key = serializers.CharField(
        allow_null=True, help_text="the order's Idempotency-Key; null: an empty cart, no checkout"
    )
    order_id = serializers.IntegerField(
        allow_null=True, help_text="the order these lines became (then there are no lines)"
    )
    order_number = serializers.CharField()
    under_way = serializers.BooleanField(
        help_text="no order yet, and the checkout began within one request's budget"
    )
    items = CheckoutLineOutput(source="lines", many=True, help_text="the stored lines, unpriced")


def checkout_key() -> serializers.CharField:
    return serializers.CharField(min_length=1, max_length=128)


class CheckoutApi(APIView):
    """The cart's checkout (docs/cart.md, "Checkout"): one order per cart, whatever the callers'
    keys. The integration service calls these with the customer's token."""

    permission_classes = [IsAuthenticatedUser]

    def answer(self, checkout: services.Checkout) -> Response:
        return Response(CheckoutOutput(checkout).data)


class BeginCheckoutApi(CheckoutApi):
    class InputSerializer(serializers.Serializer):
        key = checkout_key()

    @extend_schema(
        request=InputSerializer,
        responses=CheckoutOutput,
        description="The checkout under way (or just done), else a new one under `key`.",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.answer(
            services.begin_checkout(user_id=request.user.id, key=data.validated_data["key"])
        )


class CompleteCheckoutApi(CheckoutApi):
    class InputSerializer(serializers.Serializer):
        key = checkout_key()
        order_id = IdField()
        order_number = serializers.CharField(max_length=32)

    @extend_schema(
        request=InputSerializer,
        responses=CheckoutOutput,
        description="The lines became this order: they go, and the cart remembers it.",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.answer(
            services.complete_checkout(user_id=request.user.id, **data.validated_data)
        )


class CancelCheckoutApi(CheckoutApi):
    class InputSerializer(serializers.Serializer):
        key = checkout_key()

    @extend_schema(
        request=InputSerializer,
        responses=CheckoutOutput,
        description="The order was refused: the lines stay and the next checkout is a new one.",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.answer(
            services.cancel_checkout(user_id=request.user.id, key=data.validated_data["key"])
        )
