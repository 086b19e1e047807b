"""A provider's webhook: verified, recorded once, applied once; what the order service must learn
goes to the outbox, told after the commit."""

import hashlib
import logging
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ParseError

from payments import outbox
from payments.exceptions import InvalidWebhookEvent, InvalidWebhookSignature
from payments.gateways import get_gateway
from payments.gateways.interface import InvalidSignature, MalformedEvent, Outcome, ProviderEvent
from payments.models import (
    OPEN_STATUSES,
    TRANSITIONS,
    OrderNotice,
    Payment,
    PaymentStatus,
    WebhookEvent,
)
from payments.services.outcomes import EventOutcome, EventResult
from payments.services.refunds import flag_for_refund, settle_refunds
from payments.services.transitions import move_payment
from shop_common import metrics
from shop_common.errors import JsonTooComplex
from shop_common.parsers import parse_json

logger = logging.getLogger("shop.payments")

# The payment that paid its order: a full refund of it refunds the order.
PAID_THE_ORDER = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


def receive_event(*, gateway_name: str, payload: bytes, headers: Mapping[str, str]) -> EventResult:
    """A provider's webhook: verified, recorded once, applied once. Returns what happened."""
    counted = metrics.WEBHOOK_EVENTS
    gateway = get_gateway(gateway_name)
    try:
        gateway.verify_signature(payload, headers)
        event = gateway.read_event(signed_document(payload), headers)
    except InvalidSignature as error:
        logger.warning("Refused a %s webhook: %s", gateway_name, error)
        counted.labels(gateway_name, "rejected").inc()
        raise InvalidWebhookSignature() from error
    except MalformedEvent as error:
        reject_event(gateway_name=gateway_name, payload=payload, error=error)
        counted.labels(gateway_name, "rejected").inc()
        raise InvalidWebhookEvent(details={"reason": error.reason}) from error
    try:
        result = apply_event(gateway_name=gateway_name, event=event)
    except Exception:
        counted.labels(gateway_name, "failed").inc()
        raise
    counted.labels(gateway_name, result.metric_label).inc()
    return result


def signed_document(payload: bytes) -> dict:
    """A signed body read with the JSON limits of every endpoint before a gateway looks at it:
    a signature says who sent it, not that it is safe to walk.

    :raises MalformedEvent: not JSON, nested too deep or too large, or not an object."""
    try:
        document = parse_json(payload)
    except ParseError as error:
        raise MalformedEvent("", "", "the body is not JSON") from error
    except JsonTooComplex as error:
        raise MalformedEvent("", "", error.message) from error
    if not isinstance(document, dict):
        raise MalformedEvent("", "", "the body is not a JSON object")
    return document


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
            "outcome": EventOutcome.REJECTED,
            "rejection_reason": error.reason[:255],
        },
    )
    logger.warning("Rejected a signed %s event %s: %s", gateway_name, event_id, error.reason)


def apply_event(*, gateway_name: str, event: ProviderEvent) -> EventResult:
    """Applies ``event`` once. Deliveries of one event queue on its row; a failure rolls back, so
    the provider's retry applies it. Nothing here calls another service: the order service is told
    after the commit (``payments.outbox``).

    The event's row is the first statement of the transaction, a plain INSERT: an event's first
    delivery (nearly every one) needs no look for it first and no savepoint. A delivery of an event
    seen before fails there with nothing done, and is answered by ``_apply_seen_event``."""
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                provider=gateway_name, event_id=event.event_id, type=event.type
            )
            result = _apply_recorded(record, event)
    except IntegrityError:
        result = _apply_seen_event(gateway_name=gateway_name, event=event)
        if result is None:
            raise  # no row of this event: a write of the event's own application failed
        if result.outcome == EventOutcome.DUPLICATE:
            return result
    logger.info(
        "Applied %s %s: %s", gateway_name, event.event_id, result, extra={"event_type": event.type}
    )
    return result


def _apply_seen_event(*, gateway_name: str, event: ProviderEvent) -> EventResult | None:
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
            return EventResult(EventOutcome.DUPLICATE, recorded=record.outcome)
        return _apply_recorded(record, event)


def _apply_recorded(record: WebhookEvent, event: ProviderEvent) -> EventResult:
    """In the caller's transaction, which holds ``record``'s row."""
    result = _apply(event)
    record.processed_at = timezone.now()
    record.outcome = str(result)[:64]
    record.rejection_reason = result.reason[:255]
    record.save(update_fields=["processed_at", "outcome", "rejection_reason"])
    return result


def _payment_of(event: ProviderEvent) -> Payment | None:
    payments = Payment.objects.select_for_update()
    if event.payment_id is not None:
        return payments.filter(pk=event.payment_id).first()
    if event.reference:
        return payments.filter(provider_reference=event.reference).first()
    if event.provider_payment_id:  # refund events name the provider's payment only
        return payments.filter(provider_payment_id=event.provider_payment_id).first()
    return None


def _apply(event: ProviderEvent) -> EventResult:
    if event.outcome in (Outcome.IGNORED, Outcome.PENDING):
        return EventResult(EventOutcome(event.outcome.value))
    payment = _payment_of(event)
    if payment is None:
        logger.warning("Event %s names no payment of ours (%s)", event.event_id, event.reference)
        return EventResult(EventOutcome.UNKNOWN_PAYMENT)
    if event.outcome == Outcome.REFUND:
        return _refunds(payment, event)
    if event.outcome == Outcome.SUCCEEDED:
        return _succeeded(payment, event)
    if payment.status in (PaymentStatus.FAILED, PaymentStatus.EXPIRED):
        return EventResult(EventOutcome.ALREADY_CLOSED)
    if payment.status not in OPEN_STATUSES:
        # Providers do not promise order: a failure after a success changes nothing.
        return EventResult(EventOutcome.STALE_EVENT)
    failed = event.outcome == Outcome.FAILED
    move_payment(
        payment,
        PaymentStatus.FAILED if failed else PaymentStatus.EXPIRED,
        reason=event.type,
        failure_reason=event.type[:255],
    )
    # Leaving an open status: no earlier notice of this payment exists.
    outbox.record(
        payment=payment,
        kind=OrderNotice.Kind.PAYMENT_FAILED,
        reason=event.type,
        after_others=False,
    )
    return EventResult(EventOutcome.FAILED if failed else EventOutcome.EXPIRED)


def _succeeded(payment: Payment, event: ProviderEvent) -> EventResult:
    if payment.status == PaymentStatus.SUCCEEDED:
        return EventResult(EventOutcome.ALREADY_SUCCEEDED)
    if PaymentStatus.SUCCEEDED not in TRANSITIONS[payment.status]:  # NEEDS_REFUND, refunded
        return EventResult(EventOutcome.already(payment.status))
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
        flag_for_refund(payment, "amount or currency differs from the order", **captured)
        return EventResult(EventOutcome.AMOUNT_MISMATCH)
    was_open = payment.status in OPEN_STATUSES
    move_payment(payment, PaymentStatus.SUCCEEDED, failure_reason="", **captured)
    # A late success after a failure waits for the failure's notice, if that is still out.
    outbox.record(
        payment=payment, kind=OrderNotice.Kind.PAYMENT_SUCCEEDED, after_others=not was_open
    )
    return EventResult(EventOutcome.SUCCEEDED)


def _refunds(payment: Payment, event: ProviderEvent) -> EventResult:
    paid_the_order = payment.status in PAID_THE_ORDER
    result = settle_refunds(payment, event.refunds)
    if paid_the_order and payment.status == PaymentStatus.REFUNDED:
        outbox.record(payment=payment, kind=OrderNotice.Kind.REFUNDED)
    return result


def _provider_payment(event: ProviderEvent) -> dict[str, str]:
    return {"provider_payment_id": event.provider_payment_id} if event.provider_payment_id else {}
