"""The order service's HTTP API (also served under /api/orders/ for the first release's clients)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import services
from orders.exceptions import OrderNotFound
from orders.models import Order, OrderEvent, OrderLine, OrderStatus
from orders.selectors import OrderHistoryFilter, order_with_details, orders_of
from shop_common.fields import IdField
from shop_common.internal_api import InternalApi
from shop_common.pagination import PageNumberPagination
from shop_common.permissions import (
    ADMIN,
    STAFF,
    HasRole,
    IsAuthenticatedUser,
    is_staff,
)


class AddressSerializer(serializers.Serializer):
    street = serializers.CharField(max_length=200)
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")
    zip_code = serializers.CharField(max_length=20)
    country = serializers.CharField(max_length=60)


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


def visible_order(request: Request, order_id: int) -> Order:
    """The caller's own order, or any order for STAFF/ADMIN; anything else is 404 as if absent."""
    order = order_with_details(order_id=order_id)
    if order is None or not (order.user_id == request.user.id or is_staff(request.user)):
        raise OrderNotFound(order_id)
    return order


def who(request: Request) -> str:
    return f"{'staff' if is_staff(request.user) else 'user'}:{request.user.id}"


# The most of one product an order holds (merged over its lines); under the product service's
# per-line cap (shop_common.fields.STOCK_LINE_MAX_QUANTITY).
MAX_LINE_QUANTITY = 999


class PlaceOrderApi(APIView):
    """POST /orders/. With an ``Idempotency-Key`` header, the same key and body give the same order
    (201 first, then 200); the same key with another body is a 422."""

    permission_classes = [IsAuthenticatedUser]

    class InputSerializer(serializers.Serializer):
        class LineInput(serializers.Serializer):
            product_id = IdField()
            quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)

        items = LineInput(many=True, allow_empty=False, max_length=100)

        def validate_items(self, items: list[dict]) -> list[dict]:
            # Lines of one product are merged into one reservation line, which must stay under
            # the order's cap too (and so under the product service's): a 400 here, not a 503.
            merged: dict[int, int] = {}
            for line in items:
                merged[line["product_id"]] = merged.get(line["product_id"], 0) + line["quantity"]
            over = sorted(pid for pid, quantity in merged.items() if quantity > MAX_LINE_QUANTITY)
            if over:
                raise ValidationError(
                    f"At most {MAX_LINE_QUANTITY} of one product per order (products {over})."
                )
            return items

        shipping_address = AddressSerializer()
        billing_address = AddressSerializer(required=False, allow_null=True)
        payment_method = serializers.ChoiceField(choices=["card"], default="card")

    @extend_schema(
        request=InputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", str, location=OpenApiParameter.HEADER, required=False
            )
        ],
        responses={201: OrderOutput, 200: OrderOutput},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key and len(key) > 128:
            raise ValidationError({"Idempotency-Key": ["At most 128 characters."]})
        order, created = services.place_order(
            user_id=request.user.id,
            lines=[services.LineRequest(**line) for line in data.validated_data["items"]],
            shipping_address=dict(data.validated_data["shipping_address"]),
            billing_address=dict(data.validated_data.get("billing_address") or {}) or None,
            payment_method=data.validated_data["payment_method"],
            idempotency_key=key,
        )
        order = order_with_details(order_id=order.id)
        return Response(
            OrderOutput(order).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class OrderHistoryApi(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=list(OrderStatus.values)),
            OpenApiParameter("date_from", str, description="YYYY-MM-DD"),
            OpenApiParameter("date_to", str, description="YYYY-MM-DD"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=OrderOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        filtered = OrderHistoryFilter(
            request.query_params, queryset=orders_of(user_id=request.user.id)
        )
        if not filtered.is_valid():
            raise ValidationError(filtered.errors)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(filtered.qs, request, view=self)
        return paginator.get_paginated_response(OrderOutput(page, many=True).data)


class OrderDetailApi(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(responses=OrderOutput)
    def get(self, request: Request, order_id: int) -> Response:
        return Response(OrderOutput(visible_order(request, order_id)).data)


TrackOutput = inline_serializer(
    "OrderTracking",
    {
        "order_id": serializers.IntegerField(),
        "order_number": serializers.CharField(),
        "current_status": serializers.CharField(),
        "tracking_number": serializers.CharField(),
        "carrier": serializers.CharField(),
        "status_history": OrderEventOutput(many=True),
    },
)


class TrackOrderApi(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(responses=TrackOutput)
    def get(self, request: Request, order_id: int) -> Response:
        order = visible_order(request, order_id)
        return Response(
            {
                "order_id": order.id,
                "order_number": order.order_number,
                "current_status": order.status,
                "tracking_number": order.tracking_number,
                "carrier": order.carrier,
                "status_history": OrderEventOutput(order.events.all(), many=True).data,
            }
        )


class CancelOrderApi(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(request=None, responses=OrderOutput)
    def post(self, request: Request, order_id: int) -> Response:
        order = visible_order(request, order_id)
        services.cancel(order_id=order.id, by=who(request), reason="cancelled by the customer")
        return Response(OrderOutput(order_with_details(order_id=order.id)).data)


class ConfirmOrderApi(APIView):
    permission_classes = [HasRole(STAFF, ADMIN)]

    @extend_schema(request=None, responses=OrderOutput)
    def post(self, request: Request, order_id: int) -> Response:
        order = visible_order(request, order_id)
        services.transition(order_id=order.id, to=OrderStatus.CONFIRMED, by=who(request))
        return Response(OrderOutput(order_with_details(order_id=order.id)).data)


class OrderStatusApi(APIView):
    permission_classes = [HasRole(STAFF, ADMIN)]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=OrderStatus.choices)
        notes = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        tracking_number = serializers.CharField(
            max_length=64, required=False, allow_blank=True, default=""
        )
        carrier = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=OrderOutput)
    def put(self, request: Request, order_id: int) -> Response:
        order = visible_order(request, order_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        services.set_status(order_id=order.id, to=fields.pop("status"), by=who(request), **fields)
        return Response(OrderOutput(order_with_details(order_id=order.id)).data)


# --- internal (service token, scope internal): for the payment service ------------------------


def internal_order(order_id: int) -> Order:
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound(order_id)
    return order


InternalOrderOutput = inline_serializer(
    "InternalOrder",
    {
        "id": serializers.IntegerField(),
        "order_number": serializers.CharField(),
        "user_id": serializers.IntegerField(),
        "status": serializers.CharField(),
        "total_amount": serializers.DecimalField(max_digits=12, decimal_places=2),
        "currency": serializers.CharField(),
        "payment_reference": serializers.CharField(),
        "needs_refund": serializers.BooleanField(),
    },
)


def internal_answer(order: Order, *, changed: bool | None = None) -> dict:
    answer = {
        "id": order.id,
        "order_number": order.order_number,
        "user_id": order.user_id,
        "status": order.status,
        "total_amount": order.total_amount,
        "currency": order.currency,
        "payment_reference": order.payment_reference,
        "needs_refund": order.needs_refund,
    }
    if changed is not None:
        answer["changed"] = changed
    return answer


class InternalOrderApi(InternalApi):
    callers = ("payment",)

    @extend_schema(responses=InternalOrderOutput)
    def get(self, request: Request, order_id: int) -> Response:
        return Response(internal_answer(internal_order(order_id)))


class PaymentOutcomeInput(serializers.Serializer):
    payment_reference = serializers.CharField(max_length=128)
    reason = serializers.CharField(max_length=200, required=False, default="payment failed")


class PaymentOutcomeApi(InternalApi):
    """What the payment service learned from the provider; idempotent by payment reference."""

    callers = ("payment",)

    succeeded: bool

    @extend_schema(request=PaymentOutcomeInput, responses=InternalOrderOutput)
    def post(self, request: Request, order_id: int) -> Response:
        data = PaymentOutcomeInput(data=request.data)
        data.is_valid(raise_exception=True)
        internal_order(order_id)
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
        return Response(internal_answer(order, changed=changed))


class PaymentSucceededApi(PaymentOutcomeApi):
    succeeded = True


class PaymentFailedApi(PaymentOutcomeApi):
    succeeded = False
