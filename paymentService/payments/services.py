"""Every write of the payment service: starting a checkout, applying what the provider says, and
giving money back (refunds)."""

import hashlib
import logging
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments import clients
from payments.currencies import AmountNotRepresentable, to_minor_units
from payments.exceptions import (
    CurrencyNotSupported,
    GatewayNotConfigured,
    IllegalPaymentTransition,
    InvalidWebhookEvent,
    InvalidWebhookSignature,
    OrderNotFound,
    OrderNotPayable,
    PaymentNotFound,
    PaymentNotRefundable,
    PaymentOpenWithAnotherGateway,
    RefundExceedsCaptured,
    RefundKeyReused,
    RefundRefusedByProvider,
)
from payments.gateways import available_gateways, get_gateway
from payments.gateways.interface import (
    CheckoutRequest,
    GatewayUnavailable,
    InvalidSignature,
    MalformedEvent,
    Outcome,
    ProviderEvent,
    RefundRefused,
    RefundRequest,
    RefundUpdate,
)
from payments.models import (
    COMMITTED_REFUND_STATUSES,
    OPEN_STATUSES,
    REFUND_TRANSITIONS,
    REFUNDABLE_STATUSES,
    TRANSITIONS,
    Payment,
    PaymentStatus,
    PaymentStatusChange,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from shop_common import metrics
from shop_common.errors import DependencyUnavailable
from shop_common.related import known_related

logger = logging.getLogger("shop.payments")


def move_payment(payment: Payment, to: str, *, reason: str = "", **fields: object) -> Payment:
    """The one way a payment changes status: along ``TRANSITIONS``, with a history row, in the
    caller's transaction (which holds the row's lock). A payment that leaves the open states frees
    its order for another payment.

    :raises IllegalPaymentTransition: a move the table does not allow."""
    if to not in TRANSITIONS[payment.status]:
        raise IllegalPaymentTransition(payment.status, to)
    PaymentStatusChange.objects.create(
        payment=payment, from_status=payment.status, to_status=to, reason=reason[:255]
    )
    payment.status = to
    for name, value in fields.items():
        setattr(payment, name, value)
    changed = ["status", "updated_at", *fields]
    if to not in OPEN_STATUSES and payment.open_for_order is not None:
        payment.open_for_order = None
        changed.append("open_for_order")
    payment.save(update_fields=changed)
    transaction.on_commit(metrics.PAYMENTS.labels(payment.gateway, to).inc)
    return payment


def chosen_gateway(name: str | None) -> str:
    """The gateway a payment asked for, or the configured default.

    :raises GatewayNotConfigured: one this deployment does not offer (the answer names those it does)."""
    name = name or settings.PAYMENT_GATEWAY
    available = available_gateways()
    if name not in available:
        raise GatewayNotConfigured(name, available)
    return name


def _check_currency(gateway_name: str, amount: Decimal, currency: str) -> None:
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
    payment; with another while one is open is a 409 naming it (docs/decisions.md, 171).

    :raises GatewayNotConfigured: ``gateway`` is not offered here (400).
    :raises CurrencyNotSupported: the gateway does not take the order's currency (400).
    :raises PaymentOpenWithAnotherGateway: the order has an open checkout at another gateway."""
    gateway_name = chosen_gateway(gateway)
    order = clients.get_order(order_id)
    if order is None or order["user_id"] != user_id:
        raise OrderNotFound(order_id)
    open_payment = Payment.objects.filter(open_for_order=order_id).first()
    if open_payment is not None and open_payment.gateway != gateway_name:
        raise PaymentOpenWithAnotherGateway(
            open_payment.id, open_payment.gateway, open_payment.checkout_url
        )
    if open_payment is not None and open_payment.checkout_url:
        return open_payment, False
    if order["status"] != "PENDING":
        raise OrderNotPayable(details={"order_id": order_id, "status": order["status"]})
    created = open_payment is None
    if created:
        amount = Decimal(order["total_amount"])
        _check_currency(gateway_name, amount, order["currency"])
        try:
            with transaction.atomic():
                open_payment = Payment.objects.create(
                    order_id=order_id,
                    open_for_order=order_id,
                    user_id=user_id,
                    amount=amount,
                    currency=order["currency"],
                    gateway=gateway_name,
                )
        except IntegrityError:  # a concurrent initiation made it first
            return initiate_payment(order_id=order_id, user_id=user_id, gateway=gateway)
    payment = _open_checkout(open_payment, order_number=order["order_number"])
    if created:
        # Made by this call, its checkout URL not out yet: no refund can exist, none is asked for.
        known_related(payment, "refunds", [])
    return payment, created


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


def receive_event(*, gateway_name: str, payload: bytes, headers: Mapping[str, str]) -> str:
    """A provider's webhook: verified, recorded once, applied once. Returns what happened."""
    counted = metrics.WEBHOOK_EVENTS
    try:
        event = get_gateway(gateway_name).verify_event(payload, headers)
    except InvalidSignature as error:
        logger.warning("Refused a %s webhook: %s", gateway_name, error)
        counted.labels(gateway_name, "rejected").inc()
        raise InvalidWebhookSignature() from error
    except MalformedEvent as error:
        reject_event(gateway_name=gateway_name, payload=payload, error=error)
        counted.labels(gateway_name, "rejected").inc()
        raise InvalidWebhookEvent(details={"reason": error.reason}) from error
    try:
        outcome = apply_event(gateway_name=gateway_name, event=event)
    except Exception:
        counted.labels(gateway_name, "failed").inc()
        raise
    counted.labels(gateway_name, webhook_outcome(outcome)).inc()
    return outcome


def webhook_outcome(outcome: str) -> str:
    """What apply_event() answered, as the metric's few outcomes."""
    if outcome.startswith("duplicate:"):
        return "duplicate"
    if outcome in (Outcome.IGNORED.value, Outcome.PENDING.value):
        return "ignored"
    return "applied"


def reject_event(*, gateway_name: str, payload: bytes, error: MalformedEvent) -> None:
    """Records a signed event that cannot be applied, so that a person can see it; it is never
    applied, and a redelivery finds it rejected already."""
    event_id = error.event_id or f"malformed:{hashlib.sha256(payload).hexdigest()[:32]}"
    WebhookEvent.objects.get_or_create(
        provider=gateway_name,
        event_id=event_id[:255],
        defaults={
            "type": error.type[:100],
            "processed_at": timezone.now(),
            "outcome": "rejected",
            "rejection_reason": error.reason[:255],
        },
    )
    logger.warning("Rejected a signed %s event %s: %s", gateway_name, event_id, error.reason)


def apply_event(*, gateway_name: str, event: ProviderEvent) -> str:
    """Applies ``event`` once. Deliveries of one event queue on its row; a failure (a dependency
    down) rolls back, so the provider's retry applies it.

    The event's row is the first statement of the transaction, a plain INSERT: an event's first
    delivery (nearly every one) needs no look for it first and no savepoint. A delivery of an event
    seen before fails there with nothing done, and is answered by ``_apply_seen_event``
    (docs/decisions.md, "Performance: SQL per checkout")."""
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                provider=gateway_name, event_id=event.event_id, type=event.type
            )
            outcome = _apply_recorded(record, event)
    except IntegrityError:
        outcome = _apply_seen_event(gateway_name=gateway_name, event=event)
        if outcome is None:
            raise  # no row of this event: a write of the event's own application failed
        if outcome.startswith("duplicate:"):
            return outcome
    logger.info(
        "Applied %s %s: %s", gateway_name, event.event_id, outcome, extra={"event_type": event.type}
    )
    return outcome


def _apply_seen_event(*, gateway_name: str, event: ProviderEvent) -> str | None:
    """An event whose row exists: a duplicate once it is processed (read with its lock, so after
    a delivery still applying it). A row left unprocessed (a rejected event is processed) is
    applied now. None: there is no row."""
    with transaction.atomic():
        record = (
            WebhookEvent.objects.select_for_update()
            .filter(provider=gateway_name, event_id=event.event_id)
            .first()
        )
        if record is None:
            return None
        if record.processed_at is not None:
            return f"duplicate:{record.outcome}"
        return _apply_recorded(record, event)


def _apply_recorded(record: WebhookEvent, event: ProviderEvent) -> str:
    """In the caller's transaction, which holds ``record``'s row."""
    outcome = _apply(event)
    record.processed_at = timezone.now()
    record.outcome = outcome
    record.save(update_fields=["processed_at", "outcome"])
    return outcome


def _payment_of(event: ProviderEvent) -> Payment | None:
    payments = Payment.objects.select_for_update()
    if event.payment_id is not None:
        return payments.filter(pk=event.payment_id).first()
    if event.reference:
        return payments.filter(provider_reference=event.reference).first()
    if event.provider_payment_id:  # refund events name the provider's payment only
        return payments.filter(provider_payment_id=event.provider_payment_id).first()
    return None


def _close(payment: Payment, status: str, reason: str = "", **fields: object) -> None:
    move_payment(payment, status, reason=reason, failure_reason=reason[:255], **fields)


def _apply(event: ProviderEvent) -> str:
    if event.outcome in (Outcome.IGNORED, Outcome.PENDING):
        return event.outcome.value
    payment = _payment_of(event)
    if payment is None:
        logger.warning("Event %s names no payment of ours (%s)", event.event_id, event.reference)
        return "unknown_payment"
    if event.outcome == Outcome.REFUND:
        return _refunds_settled(payment, event.refunds)
    if event.outcome == Outcome.SUCCEEDED:
        return _succeeded(payment, event)
    if payment.status in (PaymentStatus.FAILED, PaymentStatus.EXPIRED):
        return "already_closed"
    if payment.status not in OPEN_STATUSES:
        # Providers do not promise order: a failure after a success changes nothing.
        return "stale_event"
    _close(
        payment,
        PaymentStatus.FAILED if event.outcome == Outcome.FAILED else PaymentStatus.EXPIRED,
        event.type,
    )
    try:
        clients.report_payment(
            payment.order_id,
            succeeded=False,
            payment_reference=payment.provider_reference,
            reason=event.type,
        )
    except clients.OrderRefused as refusal:
        return f"order_refused:{refusal.code}"
    return event.outcome.value


def _succeeded(payment: Payment, event: ProviderEvent) -> str:
    if payment.status == PaymentStatus.SUCCEEDED:
        return "already_succeeded"
    if PaymentStatus.SUCCEEDED not in TRANSITIONS[payment.status]:  # NEEDS_REFUND, refunded
        return f"already_{payment.status.lower()}"
    captured = {"captured_amount": event.amount, **_provider_payment(event)}
    if event.amount != payment.amount or event.currency != payment.currency:
        logger.error(
            "Payment %s: the provider took %s %s but the order costs %s %s; flagged for refund",
            payment.id,
            event.amount,
            event.currency,
            payment.amount,
            payment.currency,
        )
        _close(
            payment,
            PaymentStatus.NEEDS_REFUND,
            "amount or currency differs from the order",
            **captured,
        )
        _refund_after_commit(payment)
        return "amount_mismatch"
    try:
        clients.report_payment(
            payment.order_id, succeeded=True, payment_reference=payment.provider_reference
        )
    except clients.OrderRefused as refusal:
        _close(
            payment,
            PaymentStatus.NEEDS_REFUND,
            f"order refused the payment: {refusal.code}",
            **captured,
        )
        _refund_after_commit(payment)
        return f"needs_refund:{refusal.code}"
    _close(payment, PaymentStatus.SUCCEEDED, **captured)
    return "succeeded"


def _provider_payment(event: ProviderEvent) -> dict[str, str]:
    return {"provider_payment_id": event.provider_payment_id} if event.provider_payment_id else {}


# --- refunds -----------------------------------------------------------------------------------


def move_refund(refund: Refund, to: str, **fields: object) -> Refund:
    """The one way a refund changes status, along ``REFUND_TRANSITIONS`` (the caller holds the lock).

    :raises IllegalPaymentTransition: a move the table does not allow."""
    if to not in REFUND_TRANSITIONS[refund.status]:
        raise IllegalPaymentTransition(refund.status, to)
    refund.status = to
    for name, value in fields.items():
        setattr(refund, name, value)
    refund.save(update_fields=["status", "updated_at", *fields])
    if to in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
        counted = metrics.REFUNDS.labels(refund.payment.gateway, to.lower())
        transaction.on_commit(counted.inc)
    return refund


def refundable_amount(payment: Payment) -> Decimal:
    """What the provider took less every refund that is not known to have failed."""
    committed = sum(
        (r.amount for r in payment.refunds.filter(status__in=COMMITTED_REFUND_STATUSES)),
        Decimal("0"),
    )
    return (payment.captured_amount or Decimal("0")) - committed


def refund_payment(
    *,
    payment_id: int,
    amount: Decimal | None,
    reason: str,
    request_key: str,
    requested_by: str,
    automatic: bool = False,
) -> tuple[Refund, bool]:
    """Gives ``amount`` (None: all that is left) of a captured payment back through its gateway.
    The provider's webhook confirms it (``_refunds_settled``). Idempotent per ``request_key``: the
    same key again answers the same refund (re-sending it if the provider never answered).

    :raises PaymentNotFound: no such payment.
    :raises PaymentNotRefundable: nothing was captured (an unpaid, failed or expired payment).
    :raises RefundExceedsCaptured: more than what is left to refund.
    :raises RefundKeyReused: the key was used for another amount or reason.
    :raises DependencyUnavailable: the provider did not answer (the refund stays REQUESTED).
    :raises RefundRefusedByProvider: the provider said no (the refund is FAILED)."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None:
            raise PaymentNotFound(payment_id)
        refund = payment.refunds.filter(request_key=request_key).first()
        created = refund is None
        if refund is not None:
            if (amount is not None and amount != refund.amount) or reason != refund.reason:
                raise RefundKeyReused()
        else:
            if payment.status not in REFUNDABLE_STATUSES or not payment.provider_payment_id:
                raise PaymentNotRefundable(
                    details={"payment_id": payment.id, "status": payment.status}
                )
            left = refundable_amount(payment)
            amount = left if amount is None else amount
            if amount <= 0 or amount > left:
                raise RefundExceedsCaptured(
                    details={"refundable": str(left), "requested": str(amount)}
                )
            _check_currency(payment.gateway, amount, payment.currency)
            refund = Refund.objects.create(
                payment=payment,
                amount=amount,
                currency=payment.currency,
                reason=reason[:255],
                request_key=request_key,
                requested_by=requested_by,
                automatic=automatic,
            )
            transaction.on_commit(metrics.REFUNDS.labels(payment.gateway, "requested").inc)
    if refund.status == RefundStatus.REQUESTED:
        _send_refund(refund, payment)
        refund.refresh_from_db()
    return refund, created


def _send_refund(refund: Refund, payment: Payment) -> None:
    try:
        sent = get_gateway(payment.gateway).refund(
            RefundRequest(
                refund_id=refund.id,
                payment_id=payment.id,
                provider_payment_id=payment.provider_payment_id,
                amount=refund.amount,
                currency=refund.currency,
                reason=refund.reason,
                idempotency_key=f"shop-refund-{refund.provider_key}",
            )
        )
    except GatewayUnavailable as error:
        raise DependencyUnavailable(payment.gateway, reason=str(error)[:200]) from error
    except RefundRefused as refusal:
        with transaction.atomic():
            refund = Refund.objects.select_for_update().get(pk=refund.pk)
            if refund.status == RefundStatus.REQUESTED:
                move_refund(refund, RefundStatus.FAILED, failure_reason=str(refusal)[:255])
        logger.warning(
            "%s refused refund %s of payment %s: %s",
            payment.gateway,
            refund.id,
            payment.id,
            refusal,
        )
        raise RefundRefusedByProvider(
            details={"gateway": payment.gateway, "reason": str(refusal)[:200]}
        ) from refusal
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status == RefundStatus.REQUESTED:
            move_refund(refund, RefundStatus.PENDING, provider_refund_id=sent.reference)
        elif not refund.provider_refund_id:  # its webhook came before this answer
            refund.provider_refund_id = sent.reference
            refund.save(update_fields=["provider_refund_id", "updated_at"])
    logger.info(
        "Refund %s of payment %s sent to %s (%s %s)",
        refund.id,
        payment.id,
        payment.gateway,
        refund.amount,
        refund.currency,
    )


def _refunds_settled(payment: Payment, updates: tuple[RefundUpdate, ...]) -> str:
    """A provider's refund event (in ``apply_event``'s transaction, the payment locked): each
    settled refund once; the payment shows what went back, and a full refund of the payment that
    paid the order refunds the order.

    A refund the provider states in another currency than the payment's is not counted: amounts
    in two currencies are never added, and our refund stays as it was for a person to look at
    (an ERROR log line, the event's outcome ``refund_currency_mismatch``; docs/decisions.md 221)."""
    foreign = [u for u in updates if u.currency and u.currency.upper() != payment.currency.upper()]
    for update in foreign:
        logger.error(
            "Refund %s of payment %s is in %s at %s, but the payment is in %s: not counted; "
            "check it at the provider",
            update.reference,
            payment.id,
            update.currency,
            payment.gateway,
            payment.currency,
        )
    outcome = _count_refunds(payment, [u for u in updates if u not in foreign])
    if not foreign:
        return outcome
    if outcome == "refund_unchanged":
        return "refund_currency_mismatch"
    return f"{outcome}:refund_currency_mismatch"


def _count_refunds(payment: Payment, updates: list[RefundUpdate]) -> str:
    returned = Decimal("0")
    for update in updates:
        refunds = payment.refunds.select_for_update()
        refund = refunds.filter(provider_refund_id=update.reference).first()
        if refund is None and update.refund_id is not None:
            refund = refunds.filter(pk=update.refund_id).first()
        if refund is None:  # made at the provider's dashboard: recorded so the totals hold
            refund = Refund.objects.create(
                payment=payment,
                amount=update.amount or Decimal("0"),
                currency=payment.currency,
                reason="made at the provider",
                request_key=f"provider:{update.reference}"[:160],
                requested_by=f"provider:{payment.gateway}",
                status=RefundStatus.PENDING,
                provider_refund_id=update.reference,
            )
        if refund.status in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
            continue
        if update.succeeded:
            move_refund(refund, RefundStatus.SUCCEEDED, provider_refund_id=update.reference)
            returned += refund.amount
        else:
            move_refund(refund, RefundStatus.FAILED, provider_refund_id=update.reference)
            logger.error(
                "Refund %s of payment %s failed at %s", refund.id, payment.id, payment.gateway
            )
    if not returned:
        return "refund_unchanged"
    refunded = payment.refunded_amount + returned
    full = refunded >= (payment.captured_amount or Decimal("0"))
    target = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    paid_the_order = payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)
    if target != payment.status:
        move_payment(payment, target, reason=f"refunded {refunded}", refunded_amount=refunded)
    else:
        payment.refunded_amount = refunded
        payment.save(update_fields=["refunded_amount", "updated_at"])
    if not (full and paid_the_order):
        return "partially_refunded" if not full else "refunded"
    try:
        clients.report_refund(payment.order_id, payment_reference=payment.provider_reference)
    except clients.OrderRefused as refusal:
        logger.warning("Order %s refused its refund: %s", payment.order_id, refusal.code)
        return f"refunded:order_refused:{refusal.code}"
    return "refunded"


def _refund_after_commit(payment: Payment) -> None:
    """Money that landed where it cannot stay goes back by itself once the NEEDS_REFUND is saved;
    if the provider cannot be reached, ``reconcile_payments`` tries again."""
    transaction.on_commit(lambda: refund_automatically(payment_id=payment.id))


def refund_automatically(*, payment_id: int) -> Refund | None:
    payment = Payment.objects.get(pk=payment_id)
    logger.warning(
        "Payment %s of order %s needs a refund (%s): refunding it automatically",
        payment.id,
        payment.order_id,
        payment.failure_reason,
    )
    try:
        refund, _ = refund_payment(
            payment_id=payment.id,
            amount=None,
            reason=f"automatic: {payment.failure_reason}"[:255],
            request_key=f"automatic:{payment.id}",
            requested_by="system",
            automatic=True,
        )
    except (DependencyUnavailable, PaymentNotRefundable, RefundRefusedByProvider) as error:
        logger.error("Automatic refund of payment %s did not go out: %s", payment.id, error)
        return None
    return refund


def reconcile_open_payments(*, older_than_minutes: int) -> list[str]:
    """Asks the provider about checkouts still open after a while and applies what a lost webhook
    would have (the same code path and once-only rule as the webhook). Payments that need a refund
    and have none get one; refunds the provider never answered are sent again (same key); refunds
    it took whose webhook never came are asked about and settled."""
    cutoff = timezone.now() - timezone.timedelta(minutes=older_than_minutes)
    outcomes = []
    for payment in Payment.objects.filter(status=PaymentStatus.NEEDS_REFUND, refunds=None):
        refund = refund_automatically(payment_id=payment.id)
        outcomes.append(f"{payment.id}:{'refund_sent' if refund else 'refund_not_sent'}")
    for refund in Refund.objects.filter(status=RefundStatus.REQUESTED, updated_at__lte=cutoff):
        try:
            _send_refund(refund, refund.payment)
            outcomes.append(f"{refund.payment_id}:refund_resent")
        except (DependencyUnavailable, RefundRefusedByProvider):
            outcomes.append(f"{refund.payment_id}:refund_not_sent")
    for refund in Refund.objects.filter(
        status=RefundStatus.PENDING, updated_at__lte=cutoff
    ).exclude(provider_refund_id=""):
        outcomes.append(f"{refund.payment_id}:{_reconcile_refund(refund)}")
    for payment in Payment.objects.filter(
        status=PaymentStatus.PENDING, updated_at__lte=cutoff
    ).exclude(provider_reference=""):
        try:
            event = get_gateway(payment.gateway).fetch_checkout(payment.provider_reference)
        except GatewayUnavailable:
            logger.warning(
                "Reconciliation could not reach %s for payment %s", payment.gateway, payment.id
            )
            continue
        if event.outcome not in (Outcome.PENDING, Outcome.IGNORED):
            outcomes.append(
                f"{payment.id}:{apply_event(gateway_name=payment.gateway, event=event)}"
            )
    return outcomes


def _reconcile_refund(refund: Refund) -> str:
    """A refund the provider took but whose webhook never came: asks the provider, and applies a
    settled answer as the webhook would have (same code path, once per refund and result)."""
    payment = refund.payment
    try:
        update = get_gateway(payment.gateway).fetch_refund(refund.provider_refund_id)
    except GatewayUnavailable:
        logger.warning(
            "Reconciliation could not reach %s for refund %s", payment.gateway, refund.id
        )
        return "refund_not_reached"
    if update is None:
        return "refund_pending"
    event = ProviderEvent(
        event_id=f"reconcile:{update.reference}:{'succeeded' if update.succeeded else 'failed'}",
        type="refund.reconciled",
        outcome=Outcome.REFUND,
        reference="",
        payment_id=payment.id,
        amount=update.amount,
        currency=None,
        provider_payment_id=payment.provider_payment_id,
        refunds=(update,),
    )
    return apply_event(gateway_name=payment.gateway, event=event)
