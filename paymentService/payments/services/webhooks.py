"""A provider's webhook: verified, recorded once, applied once."""

import hashlib
import logging
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments import clients
from payments.exceptions import InvalidWebhookEvent, InvalidWebhookSignature
from payments.gateways import get_gateway
from payments.gateways.interface import InvalidSignature, MalformedEvent, Outcome, ProviderEvent
from payments.models import OPEN_STATUSES, TRANSITIONS, Payment, PaymentStatus, WebhookEvent
from payments.services.refunds import refund_after_commit, settle_refunds
from payments.services.transitions import move_payment
from shop_common import metrics

logger = logging.getLogger("shop.payments")


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
        return settle_refunds(payment, event.refunds)
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
        refund_after_commit(payment)
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
        refund_after_commit(payment)
        return f"needs_refund:{refusal.code}"
    _close(payment, PaymentStatus.SUCCEEDED, **captured)
    return "succeeded"


def _provider_payment(event: ProviderEvent) -> dict[str, str]:
    return {"provider_payment_id": event.provider_payment_id} if event.provider_payment_id else {}
