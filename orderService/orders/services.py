"""Every write of the order service: placing orders, and the one way they change state."""

import base64
import contextlib
import hashlib
import itertools
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders import clients, outbox
from orders.exceptions import (
    IllegalTransition,
    OrderNotFound,
    OrderNotPayable,
    PaymentReferenceMismatch,
)
from orders.models import TRANSITIONS, Order, OrderEvent, OrderLine, OrderStatus, OutboxCall
from orders.selectors import internal_order
from shop_common import deadlines, metrics
from shop_common.error_handlers import status_and_error
from shop_common.errors import CurrencyMismatch, DependencyUnavailable, IdempotencyKeyReused
from shop_common.idempotency import fingerprint
from shop_common.lines import merged_quantities
from shop_common.money import to_cents
from shop_common.related import known_related

logger = logging.getLogger("shop.orders")


@dataclass(frozen=True)
class LineRequest:
    product_id: int
    quantity: int


def request_hash(
    *, wanted: dict[int, int], shipping_address: dict, billing_address: dict, payment_method: str
) -> str:
    return fingerprint(
        {
            "lines": wanted,
            "shipping": shipping_address,
            "billing": billing_address,
            "payment": payment_method,
        }
    )


def order_number_for(*, user_id: int, idempotency_key: str | None, attempt: int = 0) -> str:
    """Readable and unique. With an Idempotency-Key it is derived from it, so concurrent retries of
    one request reserve stock under one reference and can only ever make one order."""
    if idempotency_key:
        seed = f"{user_id}:{idempotency_key}" + (f":{attempt}" if attempt else "")
        digest = hashlib.sha256(seed.encode()).digest()
    else:
        digest = secrets.token_bytes(16)
    return "ORD-" + base64.b32encode(digest).decode()[:12]


def _unspent_order_number(*, user_id: int, idempotency_key: str | None) -> str:
    """A placement that failed has its reference's stock released (the outbox holds that release),
    so the product service would answer a retry under that reference with the released
    reservation: a retry with the same key takes the key's next reference."""
    if not idempotency_key:
        return order_number_for(user_id=user_id, idempotency_key=None)
    spent = OutboxCall.objects.filter(kind=OutboxCall.Kind.RELEASE_STOCK)
    for attempt in itertools.count():
        number = order_number_for(user_id=user_id, idempotency_key=idempotency_key, attempt=attempt)
        if not spent.filter(order_ref=number).exists():
            return number
    raise AssertionError("unreachable")  # pragma: no cover


def _existing(*, user_id: int, idempotency_key: str, fingerprint: str) -> Order | None:
    order = Order.objects.filter(user_id=user_id, idempotency_key=idempotency_key).first()
    if order is not None and order.request_hash != fingerprint:
        raise IdempotencyKeyReused(details={"order_id": order.id})
    return order


@dataclass(frozen=True)
class _Placement:
    """One request to place an order, as the steps below take it."""

    user_id: int
    wanted: dict[int, int]  # product id -> quantity, lines of one product merged
    shipping_address: dict[str, str]
    billing_address: dict[str, str]
    payment_method: str
    idempotency_key: str | None
    fingerprint: str


@dataclass(frozen=True)
class _Priced:
    currency: str
    lines: list[clients.ReservedLine]
    subtotal: Decimal
    tax: Decimal
    shipping: Decimal


def place_order(
    *,
    user_id: int,
    lines: list[LineRequest],
    shipping_address: dict[str, str],
    billing_address: dict[str, str] | None = None,
    payment_method: str = "card",
    idempotency_key: str | None = None,
) -> tuple[Order, bool]:
    """Reserves the lines' stock, prices them at the catalog prices the product service answers
    with the reservation, and saves a PENDING order. Returns the order and whether this call
    created it (False: the same Idempotency-Key and body again).

    :raises IdempotencyKeyReused: the key was used before with another body.
    :raises ProductsNotFound, OutOfStock, DependencyUnavailable: from the reservation.
    :raises CurrencyMismatch: the products are priced in more than one currency (released).
    """
    wanted = merged_quantities((line.product_id, line.quantity) for line in lines)
    billing_address = billing_address or shipping_address
    placement = _Placement(
        user_id=user_id,
        wanted=wanted,
        shipping_address=shipping_address,
        billing_address=billing_address,
        payment_method=payment_method,
        idempotency_key=idempotency_key or None,
        fingerprint=request_hash(
            wanted=wanted,
            shipping_address=shipping_address,
            billing_address=billing_address,
            payment_method=payment_method,
        ),
    )
    if found := _placed_before(placement):
        return found, False
    order_number = _unspent_order_number(user_id=user_id, idempotency_key=idempotency_key)
    reserved = _reserve(order_number=order_number, wanted=placement.wanted)
    try:
        priced = _price(placement.wanted, reserved)
        return _save_order(placement, priced, order_number=order_number), True
    except IntegrityError:
        # A concurrent retry of the same request saved it first; its reservation is this one.
        if found := _placed_before(placement):
            return found, False
        outbox.release_stock(order_ref=order_number)
        raise
    except Exception:
        outbox.release_stock(order_ref=order_number)
        raise


def _placed_before(placement: _Placement) -> Order | None:
    """The order this Idempotency-Key placed, if any.

    :raises IdempotencyKeyReused: it was placed with another body.
    """
    if not placement.idempotency_key:
        return None
    return _existing(
        user_id=placement.user_id,
        idempotency_key=placement.idempotency_key,
        fingerprint=placement.fingerprint,
    )


def _price(wanted: dict[int, int], reserved: list[clients.ReservedLine]) -> _Priced:
    """The reserved lines at the catalog prices they were reserved at, in the order they were
    asked for, with tax and shipping.

    :raises CurrencyMismatch: the products are priced in more than one currency.
    """
    by_product = {line.product_id: line for line in reserved}
    lines = [by_product[product_id] for product_id in wanted]
    currencies = {line.currency for line in lines}
    if len(currencies) != 1:
        raise CurrencyMismatch(details={"currencies": sorted(currencies)})
    subtotal = sum((to_cents(line.price * line.quantity) for line in lines), Decimal("0.00"))
    return _Priced(
        currency=currencies.pop(),
        lines=lines,
        subtotal=subtotal,
        tax=to_cents(subtotal * settings.ORDER_TAX_RATE),
        shipping=settings.ORDER_SHIPPING_FLAT,
    )


def _reserve(*, order_number: str, wanted: dict[int, int]) -> list[clients.ReservedLine]:
    """The stock of every line, reserved under the order number by the product service, each line
    with its catalog price.

    :raises ProductsNotFound: a product is unknown or inactive (nothing is reserved).
    :raises OutOfStock: a line is short (nothing is reserved).
    :raises DependencyUnavailable: the product service did not answer; a release is queued.
    """
    try:
        return clients.reserve_stock(
            order_ref=order_number,
            lines=[{"product_id": pid, "quantity": q} for pid, q in wanted.items()],
        )
    except DependencyUnavailable:
        # The reservation may have been made with only its answer lost (a timeout): the caller is
        # told the placement failed, so nothing may stay reserved under its reference.
        outbox.release_stock(order_ref=order_number)
        raise


@transaction.atomic
def _save_order(placement: _Placement, priced: _Priced, *, order_number: str) -> Order:
    """The PENDING order with its lines and first event, in one transaction; the order holds them
    as if prefetched.

    :raises IntegrityError: a concurrent retry with the same Idempotency-Key saved it first.
    :raises DeadlineExceeded: the caller's time ran out; nothing is saved.
    """
    order = Order.objects.create(
        order_number=order_number,
        user_id=placement.user_id,
        currency=priced.currency,
        subtotal=priced.subtotal,
        tax_amount=priced.tax,
        shipping_amount=priced.shipping,
        total_amount=priced.subtotal + priced.tax + priced.shipping,
        shipping_address=placement.shipping_address,
        billing_address=placement.billing_address,
        payment_method=placement.payment_method,
        idempotency_key=placement.idempotency_key,
        request_hash=placement.fingerprint,
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product_id=line.product_id,
            title=line.title,
            sku=line.sku,
            unit_price=line.price,
            quantity=line.quantity,
            line_total=to_cents(line.price * line.quantity),
        )
        for line in priced.lines
    )
    event = OrderEvent.objects.create(
        order=order,
        from_status=None,
        to_status=OrderStatus.PENDING,
        by=f"user:{placement.user_id}",
    )
    # The answer is built from these rows, not read back (docs/development.md, "Counting SQL
    # statements"): lines in their insertion (id) order, the one event.
    known_related(order, "lines", lines)
    known_related(order, "events", [event])
    # Last, before the commit: a caller whose deadline has passed has been told this failed, so
    # the order must not appear afterwards.
    deadlines.check()
    return order


@dataclass(frozen=True)
class PaymentStart:
    """What became of an order's payment: the payment service's answer, or why there is none
    (``{"status", "error"}``: its refusal, or the 503 of a payment service that did not answer)."""

    payment: dict[str, Any] | None
    error: dict[str, Any] | None


def start_payment(*, order: Order, gateway: str | None = None) -> PaymentStart:
    """Asks the payment service to start (or find) the order's payment at this order's own amount:
    the payment service takes an amount from this service alone, so it need not read the order
    back. Called once the order is committed, holding no lock; a payment that cannot start leaves
    the order PENDING, to be paid later."""
    facts = {
        "order_id": order.id,
        "order_number": order.order_number,
        "user_id": order.user_id,
        "status": order.status,
        "total_amount": str(order.total_amount),
        "currency": order.currency,
    }
    try:
        answer = clients.start_payment(order=facts, gateway=gateway)
    except DependencyUnavailable as failure:
        return PaymentStart(payment=None, error=status_and_error(failure))
    if answer.ok:
        return PaymentStart(payment=answer.body, error=None)
    return PaymentStart(payment=None, error={"status": answer.status, **answer.body})


def _move(order: Order, to: str, *, by: str, notes: str = "", **fields: Any) -> Order:
    """The one place an order changes state: checks the table, writes the order and its event."""
    if to not in TRANSITIONS[order.status]:
        raise IllegalTransition(order.status, to)
    event = OrderEvent(
        order=order, from_status=order.status, to_status=to, by=by, notes=notes[:500]
    )
    order.status = to
    for name, value in fields.items():
        setattr(order, name, value)
    order.save()
    event.save()
    transaction.on_commit(metrics.ORDER_TRANSITIONS.labels(event.from_status, to).inc)
    return order


def transition(*, order_id: int, to: str, by: str, notes: str = "", **fields: Any) -> Order:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        return _move(order, to, by=by, notes=notes, **fields)


def cancel(*, order_id: int, by: str, reason: str) -> Order:
    """PENDING → CANCELLED, and the stock goes back. The release is recorded in the outbox in the
    same transaction and tried at once; if the product service is down it is delivered when it
    answers again, and the order is cancelled either way."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        _move(order, OrderStatus.CANCELLED, by=by, notes=reason)
        release = outbox.record_release(order_ref=order.order_number)
    outbox.deliver_now(release)
    return order


def set_status(
    *,
    order_id: int,
    to: str,
    by: str,
    notes: str = "",
    tracking_number: str = "",
    carrier: str = "",
) -> Order:
    """Staff moves. PAID only comes from a payment, REFUNDED from a refund; CANCELLED releases the
    stock."""
    if to in (OrderStatus.PAID, OrderStatus.REFUNDED):
        current = Order.objects.get(pk=order_id).status
        raise IllegalTransition(current, to)
    if to == OrderStatus.CANCELLED:
        return cancel(order_id=order_id, by=by, reason=notes or "cancelled by staff")
    fields = {
        name: value
        for name, value in (("tracking_number", tracking_number), ("carrier", carrier))
        if value
    }
    return transition(order_id=order_id, to=to, by=by, notes=notes, **fields)


def payment_succeeded(*, order_id: int, payment_reference: str, by: str) -> tuple[Order, bool]:
    """PENDING → PAID, committing the stock first. The same payment again changes nothing.
    Returns the order and whether it changed.

    :raises OrderNotFound: no such order (the caller's 404: this read is the only one before the
        stock is committed)."""
    order = internal_order(order_id=order_id)
    if order.status != OrderStatus.PENDING:
        if order.payment_reference == payment_reference and order.status != OrderStatus.CANCELLED:
            return order, False
        if order.status == OrderStatus.CANCELLED:
            Order.objects.filter(pk=order_id).update(needs_refund=True)
        raise OrderNotPayable(details={"order_id": order_id, "status": order.status})
    try:
        clients.commit_stock(order_ref=order.order_number)
    except clients.ReservationClosed:
        # The reservation expired or was released: the units may be sold already.
        Order.objects.filter(pk=order_id).update(needs_refund=True)
        with contextlib.suppress(IllegalTransition):
            transition(
                order_id=order_id,
                to=OrderStatus.CANCELLED,
                by=by,
                notes="paid after its reservation ended",
            )
        raise OrderNotPayable(
            details={"order_id": order_id, "reason": "reservation_closed"}
        ) from None
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status == OrderStatus.PAID and order.payment_reference == payment_reference:
            return order, False
        return _move(
            order,
            OrderStatus.PAID,
            by=by,
            notes=f"payment {payment_reference}",
            payment_reference=payment_reference,
        ), True


def payment_failed(
    *, order_id: int, payment_reference: str, by: str, reason: str = "payment failed"
) -> tuple[Order, bool]:
    """PENDING → CANCELLED and the stock released. Already cancelled: nothing changes.

    :raises OrderNotFound: no such order."""
    order = internal_order(order_id=order_id)
    if order.status == OrderStatus.CANCELLED:
        return order, False
    if order.status != OrderStatus.PENDING:
        raise IllegalTransition(order.status, OrderStatus.CANCELLED)
    return cancel(order_id=order_id, by=by, reason=f"{reason} ({payment_reference})"), True


def refunded(*, order_id: int, payment_reference: str, by: str) -> tuple[Order, bool]:
    """PAID or later → REFUNDED: the payment that paid the order went back in full. The same payment
    again changes nothing. Stock is not returned (docs/orders.md, "Refunds"): the goods may be with
    the customer; a return is counted by staff.

    :raises IllegalTransition: the order was never paid (PENDING, CANCELLED).
    :raises PaymentReferenceMismatch: another payment than the one that paid it.
    :raises OrderNotFound: no such order."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise OrderNotFound(order_id)
        if order.payment_reference and order.payment_reference != payment_reference:
            raise PaymentReferenceMismatch(
                details={"order_id": order_id, "payment_reference": payment_reference}
            )
        if order.status == OrderStatus.REFUNDED:
            return order, False
        return _move(
            order, OrderStatus.REFUNDED, by=by, notes=f"refunded payment {payment_reference}"
        ), True


def expire_pending_orders(*, now: Any = None) -> list[str]:
    """Cancels PENDING orders older than the reservation TTL and releases their stock."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.RESERVATION_TTL_SECONDS)
    expired = []
    for order_id in Order.objects.filter(
        status=OrderStatus.PENDING, created_at__lte=cutoff
    ).values_list("pk", flat=True):
        try:
            expired.append(
                cancel(order_id=order_id, by="system", reason="reservation expired").order_number
            )
        except IllegalTransition:
            continue  # paid or cancelled meanwhile
    return expired
