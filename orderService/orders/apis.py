"""The order service's HTTP API (also served under /api/orders/ for the first release's clients)."""

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import services
from orders.cache import customer_page
from orders.models import Order, OrderEvent, OrderLine, OrderStatus
from orders.selectors import (
    internal_order,
    order_answers,
    order_history,
    order_with_details,
    visible_order,
    visible_order_row,
)
from shop_common.fields import IdField
from shop_common.idempotency import KEY_HEADER, idempotency_key
from shop_common.internal_api import InternalApi
from shop_common.lines import merged_quantities
from shop_common.pagination import paginated_response
from shop_common.permissions import (
    ADMIN,
    STAFF,
    HasRole,
    IsAuthenticatedUser,
    is_staff,
)
from shop_common.schema import DATE_FILTER, choice_filter, raises
from shop_common.serializers import AddressSerializer

ILLEGAL_TRANSITION = raises("The order's status does not allow this move (illegal_transition).")


class OrderLineOutput(serializers.ModelSerializer):
    price = serializers.DecimalField(source="unit_price", max_digits=10, decimal_places=2)
    subtotal = serializers.DecimalField(source="line_total", max_digits=12, decimal_places=2)

    class Meta:
        model = OrderLine
        fields = ["product_id", "title", "sku", "price", "quantity", "subtotal"]


class OrderEventOutput(serializers.ModelSerializer):
    status = serializers.CharField(source="to_status")

    class Meta:
        model = OrderEvent
        fields = ["status", "from_status", "at", "by", "notes"]


class OrderOutput(serializers.ModelSerializer):
    items = OrderLineOutput(source="lines", many=True)
    status_history = OrderEventOutput(source="events", many=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "order_number",
            "user_id",
            "status",
            "currency",
            "subtotal",
            "tax_amount",
            "shipping_amount",
            "total_amount",
            "shipping_address",
            "billing_address",
            "payment_method",
            "tracking_number",
            "carrier",
            "items",
            "status_history",
            "created_at",
            "updated_at",
        ]


# An endpoint of one order: the caller's own, or any for STAFF/ADMIN (no docstring: it would
# become every subclass's description in the schema).
class OrderApi(APIView):
    permission_classes = [IsAuthenticatedUser]
    OutputSerializer = OrderOutput

    def visible_order(self, order_id: int) -> Order:
        user = self.request.user
        return visible_order(order_id=order_id, user_id=user.id, staff=is_staff(user))

    def who(self) -> str:
        return f"{'staff' if is_staff(self.request.user) else 'user'}:{self.request.user.id}"

    def answer(self, order: Order) -> Response:
        """The order as it is now, after a change."""
        return Response(self.OutputSerializer(order_with_details(order_id=order.id)).data)


# The most of one product an order holds (merged over its lines); under the product service's
# per-line cap (shop_common.fields.STOCK_LINE_MAX_QUANTITY).
MAX_LINE_QUANTITY = 999


class PaymentErrorOutput(serializers.Serializer):
    class ErrorOutput(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()
        details = serializers.DictField()

    status = serializers.IntegerField(help_text="the HTTP status of the payment service's answer")
    error = ErrorOutput()


class PlacedOrderOutput(OrderOutput):
    payment = serializers.DictField(
        allow_null=True,
        required=False,
        help_text="with ``payment`` in the request: the payment service's answer to initiating "
        "it (as POST /service/ answers), or null when it could not start",
    )
    payment_error = PaymentErrorOutput(
        required=False, help_text="why the payment could not start (the order stands, PENDING)"
    )

    class Meta(OrderOutput.Meta):
        fields = [*OrderOutput.Meta.fields, "payment", "payment_error"]


class PlaceOrderApi(APIView):
    """POST /orders/. With an ``Idempotency-Key`` header, the same key and body give the same order
    (201 first, then 200); the same key with another body is a 422. With ``payment``, the order's
    payment is started once the order is placed, and answered beside it."""

    permission_classes = [IsAuthenticatedUser]
    OutputSerializer = PlacedOrderOutput

    class InputSerializer(serializers.Serializer):
        class LineInput(serializers.Serializer):
            product_id = IdField()
            quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)

        items = LineInput(many=True, allow_empty=False, max_length=100)

        def validate_items(self, items: list[dict]) -> list[dict]:
            # Lines of one product are merged into one reservation line, which must stay under
            # the order's cap too (and so under the product service's): a 400 here, not a 503.
            merged = merged_quantities((line["product_id"], line["quantity"]) for line in items)
            over = sorted(pid for pid, quantity in merged.items() if quantity > MAX_LINE_QUANTITY)
            if over:
                raise ValidationError(
                    f"At most {MAX_LINE_QUANTITY} of one product per order (products {over})."
                )
            return items

        shipping_address = AddressSerializer()
        billing_address = AddressSerializer(required=False, allow_null=True)
        payment_method = serializers.ChoiceField(choices=["card"], default="card")

        class PaymentInput(serializers.Serializer):
            gateway = serializers.CharField(
                required=False,
                max_length=32,
                help_text="stripe or razorpay (those the payment service offers); default its own",
            )

        payment = PaymentInput(
            required=False, help_text="start the order's payment too (integration's /checkout/)"
        )

    @extend_schema(
        request=InputSerializer,
        parameters=[KEY_HEADER],
        responses={
            201: PlacedOrderOutput,
            200: PlacedOrderOutput,
            409: raises("Not enough stock for a line, or products in more than one currency."),
            422: raises("The Idempotency-Key was used before with another body."),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = idempotency_key(request)
        order, created = services.place_order(
            user_id=request.user.id,
            lines=[services.LineRequest(**line) for line in data.validated_data["items"]],
            shipping_address=dict(data.validated_data["shipping_address"]),
            billing_address=dict(data.validated_data.get("billing_address") or {}) or None,
            payment_method=data.validated_data["payment_method"],
            idempotency_key=key,
        )
        if not created:  # a replay: the order as it is now (placed holds its rows already)
            order = order_with_details(order_id=order.id)
        answer = OrderOutput(order).data
        if "payment" in data.validated_data:
            started = services.start_payment(
                order=order, gateway=data.validated_data["payment"].get("gateway")
            )
            answer["payment"] = started.payment
            if started.error:
                answer["payment_error"] = started.error
        return Response(answer, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class OrderHistoryApi(APIView):
    permission_classes = [IsAuthenticatedUser]
    OutputSerializer = OrderOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("status", choice_filter(list(OrderStatus.values))),
            OpenApiParameter("date_from", DATE_FILTER, description="YYYY-MM-DD"),
            OpenApiParameter("date_to", DATE_FILTER, description="YYYY-MM-DD"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=OrderOutput(many=True),
    )
    def get(self, request: Request) -> HttpResponse:
        return customer_page(
            user_id=request.user.id,
            address=request.build_absolute_uri(),
            compute=lambda: (
                paginated_response(
                    queryset=order_history(user_id=request.user.id, filters=request.query_params),
                    represent=order_answers,
                    request=request,
                    view=self,
                ).data
            ),
        )


class OrderDetailApi(OrderApi):
    @extend_schema(responses=OrderOutput)
    def get(self, request: Request, order_id: int) -> HttpResponse:
        user = request.user
        staff = is_staff(user)

        def answer() -> dict:
            row = visible_order_row(order_id=order_id, user_id=user.id, staff=staff)
            return order_answers([row])[0]

        if staff:  # another customer's order: not under this caller's history version
            return Response(answer())
        # What customers poll while a payment goes through: an unchanged order is one query.
        return customer_page(user_id=user.id, address=request.build_absolute_uri(), compute=answer)


class TrackOrderApi(OrderApi):
    class OutputSerializer(serializers.Serializer):
        order_id = serializers.IntegerField(source="id")
        order_number = serializers.CharField()
        current_status = serializers.CharField(source="status")
        tracking_number = serializers.CharField()
        carrier = serializers.CharField()
        status_history = OrderEventOutput(source="events", many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, order_id: int) -> Response:
        return Response(self.OutputSerializer(self.visible_order(order_id)).data)


class CancelOrderApi(OrderApi):
    @extend_schema(request=None, responses={200: OrderOutput, 409: ILLEGAL_TRANSITION})
    def post(self, request: Request, order_id: int) -> Response:
        order = self.visible_order(order_id)
        services.cancel(order_id=order.id, by=self.who(), reason="cancelled by the customer")
        return self.answer(order)


class ConfirmOrderApi(OrderApi):
    permission_classes = [HasRole(STAFF, ADMIN)]

    @extend_schema(request=None, responses={200: OrderOutput, 409: ILLEGAL_TRANSITION})
    def post(self, request: Request, order_id: int) -> Response:
        order = self.visible_order(order_id)
        services.transition(order_id=order.id, to=OrderStatus.CONFIRMED, by=self.who())
        return self.answer(order)


class OrderStatusApi(OrderApi):
    permission_classes = [HasRole(STAFF, ADMIN)]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=OrderStatus.choices)
        notes = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        tracking_number = serializers.CharField(
            max_length=64, required=False, allow_blank=True, default=""
        )
        carrier = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: OrderOutput, 409: ILLEGAL_TRANSITION})
    def put(self, request: Request, order_id: int) -> Response:
        order = self.visible_order(order_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        services.set_status(order_id=order.id, to=fields.pop("status"), by=self.who(), **fields)
        return self.answer(order)


# --- internal (service token, scope internal): for the payment service ------------------------


class InternalOrderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order_number = serializers.CharField()
    user_id = serializers.IntegerField()
    status = serializers.CharField()
    total_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    payment_reference = serializers.CharField()
    needs_refund = serializers.BooleanField()


class InternalOrderApi(InternalApi):
    callers = ("payment",)
    OutputSerializer = InternalOrderOutput

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, order_id: int) -> Response:
        return Response(self.OutputSerializer(internal_order(order_id=order_id)).data)


class PaymentOutcomeApi(InternalApi):
    """What the payment service learned from the provider; idempotent by payment reference."""

    callers = ("payment",)

    succeeded: bool

    class InputSerializer(serializers.Serializer):
        payment_reference = serializers.CharField(max_length=128)
        reason = serializers.CharField(max_length=200, required=False, default="payment failed")

    class OutputSerializer(InternalOrderOutput):
        changed = serializers.BooleanField(help_text="false: this outcome was recorded before")

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            409: raises(
                "The order can no longer be paid (order_not_payable), was paid by another "
                "payment (payment_reference_mismatch), or cannot fail any more "
                "(illegal_transition)."
            ),
        },
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = {
            "order_id": order_id,
            "payment_reference": data.validated_data["payment_reference"],
            "by": f"service:{request.user.client_id}",
        }
        if self.succeeded:
            order, changed = services.payment_succeeded(**outcome)
        else:
            order, changed = services.payment_failed(
                **outcome, reason=data.validated_data["reason"]
            )
        order.changed = changed
        return Response(self.OutputSerializer(order).data)


class OrderRefundedApi(InternalApi):
    """The payment that paid the order went back in full: PAID or later → REFUNDED (idempotent by
    payment reference; never paid → 409 illegal_transition; another payment → 409)."""

    callers = ("payment",)
    InputSerializer = PaymentOutcomeApi.InputSerializer
    OutputSerializer = PaymentOutcomeApi.OutputSerializer

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            409: raises(
                "The order was never paid (illegal_transition), or was paid by another payment "
                "(payment_reference_mismatch)."
            ),
        },
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order, changed = services.refunded(
            order_id=order_id,
            payment_reference=data.validated_data["payment_reference"],
            by=f"service:{request.user.client_id}",
        )
        order.changed = changed
        return Response(self.OutputSerializer(order).data)


class PaymentSucceededApi(PaymentOutcomeApi):
    succeeded = True


class PaymentFailedApi(PaymentOutcomeApi):
    succeeded = False
