"""Giving captured money back through the payment's gateway, and settling what the provider says
about refunds."""

import logging
from decimal import Decimal

from django.db import transaction

from payments.exceptions import (
    PaymentNotFound,
    PaymentNotRefundable,
    RefundExceedsCaptured,
    RefundKeyReused,
    RefundRefusedByProvider,
)
from payments.gateways import get_gateway
from payments.gateways.interface import (
    GatewayUnavailable,
    RefundRefused,
    RefundRequest,
    RefundUpdate,
)
from payments.models import (
    COMMITTED_REFUND_STATUSES,
    REFUNDABLE_STATUSES,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from payments.services.initiation import check_currency
from payments.services.outcomes import EventOutcome, EventResult
from payments.services.transitions import move_payment, move_refund
from shop_common import metrics
from shop_common.errors import DependencyUnavailable

logger = logging.getLogger("shop.payments")


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
            check_currency(payment.gateway, amount, payment.currency)
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
        send_refund(refund, payment)
        refund.refresh_from_db()
    return refund, created


def send_refund(refund: Refund, payment: Payment) -> None:
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


def settle_refunds(payment: Payment, updates: tuple[RefundUpdate, ...]) -> EventResult:
    """A provider's refund event (in ``apply_event``'s transaction, the payment locked): each
    settled refund once; the payment shows what went back.

    A refund the provider states in another currency than the payment's is not counted: amounts
    in two currencies are never added, and our refund stays as it was for a person to look at
    (an ERROR log line, the event's outcome ``refund_currency_mismatch``)."""
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
    if foreign and outcome == EventOutcome.REFUND_UNCHANGED:
        return EventResult(EventOutcome.REFUND_CURRENCY_MISMATCH)
    return EventResult(outcome, foreign_refunds=bool(foreign))


def _count_refunds(payment: Payment, updates: list[RefundUpdate]) -> EventOutcome:
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
        return EventOutcome.REFUND_UNCHANGED
    refunded = payment.refunded_amount + returned
    full = refunded >= (payment.captured_amount or Decimal("0"))
    target = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    if target != payment.status:
        move_payment(payment, target, reason=f"refunded {refunded}", refunded_amount=refunded)
    else:
        payment.refunded_amount = refunded
        payment.save(update_fields=["refunded_amount", "updated_at"])
    return EventOutcome.REFUNDED if full else EventOutcome.PARTIALLY_REFUNDED


def flag_for_refund(payment: Payment, reason: str, **fields: object) -> None:
    """Money that landed where it cannot stay (in the caller's transaction, the payment locked):
    NEEDS_REFUND, and a full refund sent by itself once that is saved; if the provider cannot be
    reached, ``reconcile_payments`` tries again."""
    move_payment(
        payment, PaymentStatus.NEEDS_REFUND, reason=reason, failure_reason=reason[:255], **fields
    )
    transaction.on_commit(lambda: refund_automatically(payment_id=payment.id))


def order_refused_payment(*, payment_id: int, code: str) -> None:
    """The order service refused a succeeded payment (its order was cancelled meanwhile): the
    money goes back. A payment that has moved on since (a refund began) is left to a person."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == PaymentStatus.SUCCEEDED:
            flag_for_refund(payment, f"order refused the payment: {code}")
            return
    logger.error(
        "Order %s refused payment %s (%s), which is %s already: check it by hand",
        payment.order_id,
        payment.id,
        code,
        payment.status,
    )


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
