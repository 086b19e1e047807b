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
    RefundOrigin,
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
    The provider's webhook confirms it (``settle_refunds``). Idempotent per ``request_key``: the
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
    settled refund once; the payment shows what went back, never more than was captured.

    A refund the provider states in another currency than the payment's is not counted: amounts
    in two currencies are never added, and our refund stays as it was for a person to look at
    (an ERROR log line, the event's outcome ``refund_currency_mismatch``). A refund that would
    take the payment past what was captured is not applied either (``refund_rejected``, the
    reason on the event, an ERROR line, ``shop_refunds_total{outcome="rejected"}``): whoever
    signed it, no event can make ``refunded_amount`` exceed ``captured_amount``."""
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
    settled = _Settlement(payment)
    for update in updates:
        if update not in foreign:
            settled.apply(update)
    outcome = settled.close()
    notes = [EventOutcome.REFUND_CURRENCY_MISMATCH] if foreign else []
    notes += [EventOutcome.REFUND_REJECTED] if settled.rejected else []
    if outcome == EventOutcome.REFUND_UNCHANGED and notes:
        outcome, notes = notes[0], notes[1:]
    return EventResult(outcome, notes=tuple(notes), reason="; ".join(settled.rejected)[:255])


class _Settlement:
    """The refunds one event settles on one payment, within what was captured."""

    def __init__(self, payment: Payment) -> None:
        self.payment = payment
        self.captured = payment.captured_amount or Decimal("0")
        self.returned = Decimal("0")
        self.rejected: list[str] = []

    def apply(self, update: RefundUpdate) -> None:
        payment = self.payment
        refunds = payment.refunds.select_for_update()
        refund = refunds.filter(provider_refund_id=update.reference).first()
        if refund is None and update.refund_id is not None:
            refund = refunds.filter(pk=update.refund_id).first()
        if refund is None:
            refund = self._made_at_the_provider(update)
            if refund is None:
                return
        if refund.status in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
            return
        if not update.succeeded:
            move_refund(refund, RefundStatus.FAILED, provider_refund_id=update.reference)
            logger.error(
                "Refund %s of payment %s failed at %s", refund.id, payment.id, payment.gateway
            )
            return
        if payment.refunded_amount + self.returned + refund.amount > self.captured:
            # Ours was bounded when it was asked for; this holds if a provider's word disagrees.
            self._reject(
                update, refund.amount, self.captured - payment.refunded_amount - self.returned
            )
            return
        move_refund(refund, RefundStatus.SUCCEEDED, provider_refund_id=update.reference)
        self.returned += refund.amount

    def _made_at_the_provider(self, update: RefundUpdate) -> Refund | None:
        """A refund made outside the shop (the provider's dashboard): recorded, flagged, so the
        totals hold, if it fits in what is left to refund; None when it does not."""
        payment = self.payment
        amount = update.amount or Decimal("0")
        left = refundable_amount(payment)
        if update.succeeded and amount > left:
            self._reject(update, amount, left)
            return None
        refund = Refund.objects.create(
            payment=payment,
            origin=RefundOrigin.PROVIDER,
            amount=amount,
            currency=payment.currency,
            reason="made at the provider",
            request_key=f"provider:{update.reference}"[:160],
            requested_by=f"provider:{payment.gateway}",
            status=RefundStatus.PENDING,
            provider_refund_id=update.reference,
        )
        logger.warning(
            "Refund %s of payment %s (%s %s) was made at %s, outside the shop",
            update.reference,
            payment.id,
            amount,
            payment.currency,
            payment.gateway,
        )
        transaction.on_commit(metrics.REFUNDS.labels(payment.gateway, "provider").inc)
        return refund

    def _reject(self, update: RefundUpdate, amount: Decimal, left: Decimal) -> None:
        payment = self.payment
        reason = (
            f"refund {update.reference} of {amount} {payment.currency} is more than is left to "
            f"refund ({left} {payment.currency})"
        )
        logger.error(
            "Payment %s: %s; not applied, check it at %s", payment.id, reason, payment.gateway
        )
        self.rejected.append(reason)
        transaction.on_commit(metrics.REFUNDS.labels(payment.gateway, "rejected").inc)

    def close(self) -> EventOutcome:
        """The payment as the applied refunds leave it."""
        payment = self.payment
        if not self.returned:
            return EventOutcome.REFUND_UNCHANGED
        refunded = payment.refunded_amount + self.returned
        full = refunded >= self.captured
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
