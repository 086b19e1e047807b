"""The integration service's HTTP API (also under /api/ for the first release's clients)."""

import json

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkout import clients, schemas, services
from checkout.exceptions import Downstream
from shop_common.fields import IdField
from shop_common.idempotency import KEY_HEADER, idempotency_key
from shop_common.permissions import IsAuthenticatedUser
from shop_common.schema import raises
from shop_common.serializers import AddressSerializer

# The other services' refusals come back as they are (docs/integration.md): a product or order
# that does not exist or is not the caller's, and a conflict (out of stock, not payable).
PASSED_ON = {
    404: raises("Passed on: the product or order does not exist (or is not yours)."),
    409: raises("Passed on: out of stock, or an order that cannot be paid."),
}
IDEMPOTENCY_KEY_REUSED = raises("The Idempotency-Key was used before with another body.")
# Placing a cart: one order per cart (docs/integration.md, "One order per cart").
PLACING = {
    **PASSED_ON,
    400: raises("Invalid fields; cart_empty: the cart has no lines; gateway_not_available."),
    409: raises(
        "Out of stock (passed on); cart_checked_out: this cart already became the order in "
        "details.order_id; cart_checkout_in_progress: another checkout of it is placing its order."
    ),
    422: IDEMPOTENCY_KEY_REUSED,
}


class PlaceInput(serializers.Serializer):
    shipping_address = AddressSerializer()
    billing_address = AddressSerializer(required=False, allow_null=True)
    payment_method = serializers.ChoiceField(choices=["card"], default="card")


GATEWAY_HELP = "the payment service's gateway (stripe, razorpay); default: its configured one"


class CheckoutInput(PlaceInput):
    gateway = serializers.CharField(required=False, max_length=32, help_text=GATEWAY_HELP)


class IntegrationApi(APIView):
    permission_classes = [IsAuthenticatedUser]


class PlaceApi(IntegrationApi):
    """Places the caller's cart as an order (the order service's body, forwarded)."""

    InputSerializer = PlaceInput

    def place_body(self) -> dict:
        data = self.InputSerializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        # Plain JSON types (serializers give ordered dicts): the body is hashed and forwarded as
        # it is.
        valid = {key: value for key, value in data.validated_data.items() if value is not None}
        return json.loads(json.dumps(valid))


class AddToCartApi(IntegrationApi):
    """The cart service's add, for the caller (their token is forwarded)."""

    # Documents the body only: it is forwarded as it is, and the cart service validates it.
    InputSerializer = inline_serializer(
        "AddToCart",
        {"product_id": serializers.IntegerField(), "quantity": serializers.IntegerField()},
    )

    @extend_schema(
        request=InputSerializer,
        responses={200: schemas.PricedCart, **PASSED_ON},
        description="Answers the cart service's priced cart.",
    )
    def post(self, request: Request) -> Response:
        answer = clients.add_to_cart(
            request.auth, request.data if isinstance(request.data, dict) else {}
        )
        if not answer.ok:
            raise Downstream(answer.status, answer.body)
        return Response(answer.body, status=answer.status)


class PlaceOrderApi(PlaceApi):
    @extend_schema(
        request=PlaceInput,
        parameters=[KEY_HEADER],
        responses={201: schemas.PlacedOrder, **PLACING},
        description="Places the cart's order; answers the order service's order plus `cart_cleared`.",
    )
    def post(self, request: Request) -> Response:
        body = self.place_body()
        key = idempotency_key(request)

        def run() -> tuple[int, dict]:
            return 201, services.place_order(
                user_id=request.user.id, token=request.auth, body=body, client_key=key
            )

        status, answer = services.remembered(
            user_id=request.user.id, endpoint="orders.place", key=key, body=body, run=run
        )
        return Response(answer, status=status)


class InitiatePaymentApi(IntegrationApi):
    class InputSerializer(serializers.Serializer):
        order_id = IdField(required=False, help_text="default: your newest PENDING order")
        gateway = serializers.CharField(required=False, max_length=32, help_text=GATEWAY_HELP)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: schemas.Payment,
            200: schemas.Payment,
            **PASSED_ON,
            400: raises("Invalid fields; gateway_not_available: one the shop does not offer."),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        status, answer = services.initiate_payment(
            token=request.auth,
            order_id=data.validated_data.get("order_id"),
            gateway=data.validated_data.get("gateway"),
        )
        return Response(answer, status=status)


class CheckoutApi(PlaceApi):
    """Place the cart's order and start its payment in one call: 201 ``{order, payment}``; if the
    payment cannot be started, 201 ``{order, payment: null, payment_error}`` (the order stands)."""

    InputSerializer = CheckoutInput

    @extend_schema(
        request=CheckoutInput,
        parameters=[KEY_HEADER],
        responses={201: schemas.CheckoutAnswer, **PLACING},
    )
    def post(self, request: Request) -> Response:
        body = self.place_body()
        key = idempotency_key(request)
        status, answer = services.remembered(
            user_id=request.user.id,
            endpoint="checkout",
            key=key,
            body=body,
            run=lambda: services.checkout(
                user_id=request.user.id, token=request.auth, body=body, client_key=key
            ),
        )
        return Response(answer, status=status)
