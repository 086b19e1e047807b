"""The payment service's HTTP API (also under /payment/ for the first release's clients)."""

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from payments.models import Payment, Refund
from payments.selectors import (
    landing_payment,
    payment_list,
    payment_with_refunds,
    visible_payment,
)
from payments.services.initiation import initiate_payment, start_order_payment
from payments.services.refunds import refund_payment
from payments.services.webhooks import receive_event
from shop_common.fields import MAX_ID, IdField
from shop_common.idempotency import HEADER, KEY_SCHEMA, idempotency_key
from shop_common.internal_api import InternalApi
from shop_common.pagination import paginated_response
from shop_common.permissions import ADMIN, STAFF, HasRole, IsAuthenticatedUser, is_staff
from shop_common.schema import raises


class RefundOutput(serializers.ModelSerializer):
    refund_id = serializers.IntegerField(source="id")

    class Meta:
        model = Refund
        fields = [
            "refund_id",
            "payment_id",
            "origin",
            "amount",
            "currency",
            "status",
            "reason",
            "provider_refund_id",
            "requested_by",
            "automatic",
            "failure_reason",
            "created_at",
            "updated_at",
        ]


class PaymentOutput(serializers.ModelSerializer):
    payment_id = serializers.IntegerField(source="id")
    refunds = RefundOutput(many=True, read_only=True)
    url = serializers.URLField(
        source="checkout_url", help_text="the same as checkout_url (first release)"
    )

    class Meta:
        model = Payment
        fields = [
            "payment_id",
            "order_id",
            "status",
            "gateway",
            "amount",
            "currency",
            "checkout_url",
            "url",
            "provider_reference",
            "provider_payment_id",
            "captured_amount",
            "refunded_amount",
            "refunds",
            "failure_reason",
            "created_at",
            "updated_at",
        ]


# A payment started (201) or found open (200), the same from either door.
STARTED_ANSWERS = {
    201: PaymentOutput,
    200: PaymentOutput,
    409: raises(
        "The order is not PENDING (order_not_payable), or its payment is open with another gateway."
    ),
}


class InitiatePaymentApi(APIView):
    """Starts (or returns) the checkout of the caller's PENDING order. A ``total_amount`` or any
    other figure in the body is ignored: the amount comes from the order service."""

    permission_classes = [IsAuthenticatedUser]
    OutputSerializer = PaymentOutput

    class InputSerializer(serializers.Serializer):
        order_id = IdField()
        gateway = serializers.CharField(
            required=False,
            max_length=32,
            help_text="stripe or razorpay (those PAYMENT_GATEWAYS offers); default PAYMENT_GATEWAY",
        )

    @extend_schema(
        request=InputSerializer,
        responses=STARTED_ANSWERS,
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment, created = initiate_payment(
            order_id=data.validated_data["order_id"],
            user_id=request.user.id,
            gateway=data.validated_data.get("gateway"),
        )
        return Response(
            self.OutputSerializer(payment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class StartOrderPaymentApi(InternalApi):
    """The order service starts (or finds) the payment of an order it has just placed, sending the
    order's amount itself: the one caller whose figures the payment service takes (the public
    initiation asks the order service instead). Otherwise as ``POST /service/``."""

    callers = ("order",)
    OutputSerializer = PaymentOutput

    class InputSerializer(serializers.Serializer):
        order_id = IdField()
        order_number = serializers.CharField(max_length=32)
        user_id = IdField()
        status = serializers.CharField(max_length=16)
        # Nothing to pay is never a checkout, whoever asks.
        total_amount = serializers.DecimalField(
            max_digits=12, decimal_places=2, min_value=Decimal("0.01")
        )
        currency = serializers.RegexField(r"^[A-Z]{3}$")
        gateway = serializers.CharField(required=False, max_length=32)

    @extend_schema(
        request=InputSerializer,
        responses=STARTED_ANSWERS,
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = dict(data.validated_data)
        gateway = order.pop("gateway", None)
        order["id"] = order.pop("order_id")
        payment, created = start_order_payment(order=order, gateway=gateway)
        return Response(
            self.OutputSerializer(payment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class StripeWebhookApi(APIView):
    """Stripe's events: the signature is checked against STRIPE_WEBHOOK_SECRET before anything."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    gateway_name = "stripe"

    @extend_schema(request=None, responses={200: None, 400: None, 503: None})
    def post(self, request: Request) -> Response:
        result = receive_event(
            gateway_name=self.gateway_name, payload=request.body, headers=request.headers
        )
        return Response({"received": True, "outcome": str(result)})


class RazorpayWebhookApi(StripeWebhookApi):
    """Razorpay's events: ``X-Razorpay-Signature`` is checked against RAZORPAY_WEBHOOK_SECRET (with
    the SDK's own utility) before anything; each event is applied once per ``X-Razorpay-Event-Id``."""

    gateway_name = "razorpay"


class PaymentDetailApi(APIView):
    permission_classes = [IsAuthenticatedUser]
    OutputSerializer = PaymentOutput

    @extend_schema(responses=PaymentOutput)
    def get(self, request: Request, payment_id: int) -> Response:
        payment = visible_payment(
            payment_id=payment_id, user_id=request.user.id, staff=is_staff(request.user)
        )
        return Response(self.OutputSerializer(payment).data)


class RefundPaymentApi(APIView):
    """Gives captured money back through the payment's gateway (STAFF/ADMIN): all that is left, or
    ``amount``. Idempotent per ``Idempotency-Key`` (required): the same key answers the same refund.
    The refund is PENDING until the provider's webhook confirms it; the payment then shows
    PARTIALLY_REFUNDED or REFUNDED, and a full refund moves the order to REFUNDED."""

    permission_classes = [HasRole(STAFF, ADMIN)]

    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(
            max_digits=12,
            decimal_places=2,
            min_value=Decimal("0.01"),
            required=False,
            help_text="default: everything captured and not yet refunded",
        )
        reason = serializers.CharField(max_length=255)

    class OutputSerializer(serializers.Serializer):
        refund = RefundOutput()
        payment = PaymentOutput()

    @extend_schema(
        request=InputSerializer,
        parameters=[
            OpenApiParameter(HEADER, KEY_SCHEMA, location=OpenApiParameter.HEADER, required=True)
        ],
        responses={
            201: OutputSerializer,
            200: OutputSerializer,
            409: raises(
                "Nothing left to refund, more than is left, a payment that was never captured, "
                "or the provider refused the refund."
            ),
            422: raises("The Idempotency-Key was used before for another refund."),
        },
    )
    def post(self, request: Request, payment_id: int) -> Response:
        key = idempotency_key(request)
        if key is None:
            raise ValidationError({HEADER: ["Required: a refund is made once per key."]})
        visible_payment(payment_id=payment_id, user_id=request.user.id, staff=True)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund, created = refund_payment(
            payment_id=payment_id,
            amount=data.validated_data.get("amount"),
            reason=data.validated_data["reason"],
            request_key=f"staff:{key}",
            requested_by=f"staff:{request.user.id}",
        )
        answer = {"refund": refund, "payment": payment_with_refunds(payment_id=payment_id)}
        return Response(
            self.OutputSerializer(answer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class PaymentListApi(APIView):
    permission_classes = [IsAuthenticatedUser]
    OutputSerializer = PaymentOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("order_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID})
        ],
        responses=PaymentOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        payments = payment_list(
            user_id=request.user.id, staff=is_staff(request.user), filters=request.query_params
        )
        return paginated_response(
            queryset=payments, serializer_class=self.OutputSerializer, request=request, view=self
        )


def landing_page(request: HttpRequest, *, outcome: str) -> HttpResponse:
    """Where the hosted checkout sends the person back. The webhook, not this page, moves money."""
    # Stripe fills in session_id; Razorpay adds razorpay_payment_link_id (and its own signature).
    reference = request.GET.get("session_id") or request.GET.get("razorpay_payment_link_id") or ""
    payment = landing_payment(reference=reference)
    return render(request, "payments/landing.html", {"outcome": outcome, "payment": payment})


# They show an order's payment: no browser or proxy may keep a copy (no-store).
@never_cache
def success_page(request: HttpRequest) -> HttpResponse:
    return landing_page(request, outcome="success")


@never_cache
def cancel_page(request: HttpRequest) -> HttpResponse:
    return landing_page(request, outcome="cancel")
