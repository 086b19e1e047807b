"""Starting a payment: the open payment of a PENDING order and its checkout at the gateway."""

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from payments import clients
from payments.currencies import AmountNotRepresentable, to_minor_units
from payments.exceptions import (
    CurrencyNotSupported,
    OrderNotFound,
    OrderNotPayable,
    PaymentOpenWithAnotherGateway,
)
from payments.gateways import available_gateways, get_gateway
from payments.gateways.interface import CheckoutRequest, GatewayUnavailable
from payments.models import Payment, PaymentStatus
from payments.services.transitions import move_payment
from shop_common.errors import DependencyUnavailable, GatewayNotAvailable
from shop_common.related import known_related


def chosen_gateway(name: str | None) -> str:
    """The gateway a payment asked for, or the configured default.

    :raises GatewayNotAvailable: one this deployment does not offer (the answer names those it does)."""
    name = name or settings.PAYMENT_GATEWAY
    available = available_gateways()
    if name not in available:
        raise GatewayNotAvailable(name, available)
    return name


def check_currency(gateway_name: str, amount: Decimal, currency: str) -> None:
    if currency.upper() not in get_gateway(gateway_name).currencies:
        raise CurrencyNotSupported(gateway_name, currency)
    try:
        to_minor_units(amount, currency)
    except AmountNotRepresentable as error:
        raise CurrencyNotSupported(gateway_name, currency, str(error)) from error


def initiate_payment(
    *, order_id: int, user_id: int, gateway: str | None = None
) -> tuple[Payment, bool]:
    """The open payment of the caller's PENDING order, creating its checkout when there is none.
    The amount and currency come from the order service, never from the client.

    One open payment per order across gateways: asking again with the same gateway returns the open
    payment; with another while one is open is a 409 naming it: the open checkout must end first.

    :raises GatewayNotAvailable: ``gateway`` is not offered here (400).
    :raises CurrencyNotSupported: the gateway does not take the order's currency (400).
    :raises PaymentOpenWithAnotherGateway: the order has an open checkout at another gateway."""
    gateway_name = chosen_gateway(gateway)
    order = clients.get_order(order_id)
    if order is None or order["user_id"] != user_id:
        raise OrderNotFound(order_id)
    return _start(order, gateway_name)


def start_order_payment(*, order: dict, gateway: str | None = None) -> tuple[Payment, bool]:
    """``initiate_payment`` for an order the order service sends itself, as its internal read
    answers it (``id``, ``order_number``, ``user_id``, ``status``, ``total_amount``,
    ``currency``): only the order service may send one, so its amount needs no second look.

    :raises GatewayNotAvailable, CurrencyNotSupported, PaymentOpenWithAnotherGateway: as there."""
    return _start(order, chosen_gateway(gateway))


# Money taken for the order: it stays PENDING at the order service until the payment's notice gets
# there (the product service may be down), and a second checkout then would charge twice.
CAPTURED = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


def _start(order: dict, gateway_name: str) -> tuple[Payment, bool]:
    order_id, user_id = order["id"], order["user_id"]
    if order["status"] == "PENDING":
        paid = Payment.objects.filter(order_id=order_id, status__in=CAPTURED).first()
        if paid is not None:
            raise OrderNotPayable(
                details={"order_id": order_id, "status": "PAID", "payment_id": paid.id}
            )
    payment = _new_payment(order, user_id, gateway_name) if order["status"] == "PENDING" else None
    created = payment is not None
    if not created:
        payment = Payment.objects.filter(open_for_order=order_id).first()
        if payment is not None and payment.gateway != gateway_name:
            raise PaymentOpenWithAnotherGateway(payment.id, payment.gateway, payment.checkout_url)
        if payment is not None and payment.checkout_url:
            return payment, False
        if order["status"] != "PENDING":
            raise OrderNotPayable(details={"order_id": order_id, "status": order["status"]})
        if payment is None:  # the open payment that was in the way has closed since
            return _start(order, gateway_name)
    payment = _open_checkout(payment, order_number=order["order_number"])
    if created:
        # Made by this call, its checkout URL not out yet: no refund can exist, none is asked for.
        known_related(payment, "refunds", [])
    return payment, created


def _new_payment(order: dict, user_id: int, gateway_name: str) -> Payment | None:
    """The order's new open payment, or None when it has one (at most one, a unique index): a
    first initiation, nearly every one, needs no look for an open payment first.

    :raises CurrencyNotSupported: the gateway does not take the order's currency (no row kept)."""
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                order_id=order["id"],
                open_for_order=order["id"],
                user_id=user_id,
                amount=Decimal(order["total_amount"]),
                currency=order["currency"],
                gateway=gateway_name,
            )
            check_currency(gateway_name, payment.amount, payment.currency)
    except IntegrityError:
        return None
    return payment


def _open_checkout(payment: Payment, *, order_number: str) -> Payment:
    base = settings.SERVICE_URLS["payment"]
    try:
        checkout = get_gateway(payment.gateway).create_checkout(
            CheckoutRequest(
                payment_id=payment.id,
                order_id=payment.order_id,
                order_number=order_number,
                amount=payment.amount,
                currency=payment.currency,
                description=f"Order {order_number}",
                success_url=f"{base}/payments/success/",
                cancel_url=f"{base}/payments/cancel/",
                idempotency_key=f"shop-payment-{payment.checkout_key}",
            )
        )
    except GatewayUnavailable as error:
        # The payment stays CREATED; the next initiation tries again with the same idempotency key.
        raise DependencyUnavailable(payment.gateway, reason=str(error)[:200]) from error
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status == PaymentStatus.CREATED:
            move_payment(
                payment,
                PaymentStatus.PENDING,
                reason="checkout opened",
                provider_reference=checkout.reference,
                checkout_url=checkout.url,
            )
    return payment
