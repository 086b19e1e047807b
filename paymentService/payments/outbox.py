"""The outbox: what the order service must learn about a payment (paid, failed, refunded), told
after the commit.

A notice is written in the transaction that moves the payment (``record``), tried at once after the
commit, and, if the order service does not answer, delivered by ``manage.py drain_outbox`` (every
minute under ``make run``). No call to the order service is made while a row lock is held, and a
webhook is answered 2xx once the payment is saved, whether or not the order service is up. The
order service's endpoints are idempotent by payment reference, so a notice delivered twice is
harmless. Notices of one payment are delivered in the order they were written.
"""

import logging
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from payments import clients
from payments.models import OrderNotice, Payment
from payments.services.refunds import order_refused_payment
from shop_common import deadlines
from shop_common.deadlines import DeadlineExceeded
from shop_common.errors import DependencyUnavailable

logger = logging.getLogger("shop.payments.outbox")

# The pause between attempts grows to this; the periodic drain tries every pending notice anyway.
MAX_PAUSE_SECONDS = 60
ACCEPTED = "accepted"


def record(
    *, payment: Payment, kind: str, reason: str = "", after_others: bool = True
) -> OrderNotice:
    """The notice of ``kind`` about ``payment``, in the caller's transaction, delivered once that
    commits. ``after_others=False``: the caller knows no earlier notice of this payment can be
    waiting (it just left an open status), so delivering it needs no look for one."""
    notice = OrderNotice.objects.create(
        payment=payment, kind=kind, reason=reason[:200], next_attempt_at=timezone.now()
    )
    # robust: a failure here is logged; the commit stands and the drain delivers the notice.
    transaction.on_commit(partial(deliver_now, notice, after_others=after_others), robust=True)
    return notice


def deliver_now(notice: OrderNotice, *, after_others: bool = True) -> bool:
    """``deliver`` within half the time the request has left (the rest is for answering it); a
    notice behind an undelivered earlier one of its payment is left for the drain."""
    if after_others and _waits_for_an_earlier_notice(notice):
        return False
    left = deadlines.time_left()
    with deadlines.budget(None if left is None else left / 2):
        return deliver(notice)


def _waits_for_an_earlier_notice(notice: OrderNotice) -> bool:
    return OrderNotice.objects.filter(
        payment_id=notice.payment_id, done_at=None, id__lt=notice.id
    ).exists()


def deliver(notice: OrderNotice) -> bool:
    """One attempt; True once the order service has answered (taken it, or refused it for good)."""
    payment = notice.payment
    now = timezone.now()
    try:
        answer = _tell(notice, payment)
    except (DependencyUnavailable, DeadlineExceeded) as unavailable:
        pause = min(5 * 2**notice.attempts, MAX_PAUSE_SECONDS)
        OrderNotice.objects.filter(pk=notice.pk, done_at=None).update(
            attempts=F("attempts") + 1,
            next_attempt_at=now + timedelta(seconds=pause),
            last_error=f"{unavailable.details.get('reason', '')}: {unavailable.message}"[:500],
        )
        logger.warning(
            "The order service was not told %s of payment %s (attempt %d); the outbox retries",
            notice.kind,
            payment.id,
            notice.attempts + 1,
        )
        return False
    first = OrderNotice.objects.filter(pk=notice.pk, done_at=None).update(
        attempts=F("attempts") + 1, done_at=now, answer=answer
    )
    if first and answer != ACCEPTED:
        _refused(notice, payment, answer)
    return True


def _tell(notice: OrderNotice, payment: Payment) -> str:
    """The order service's answer: ``ACCEPTED`` or the code of its refusal."""
    reference = payment.provider_reference
    try:
        if notice.kind == OrderNotice.Kind.REFUNDED:
            clients.report_refund(payment.order_id, payment_reference=reference)
        else:
            clients.report_payment(
                payment.order_id,
                succeeded=notice.kind == OrderNotice.Kind.PAYMENT_SUCCEEDED,
                payment_reference=reference,
                reason=notice.reason,
            )
    except clients.OrderRefused as refusal:
        return refusal.code[:64]
    return ACCEPTED


def _refused(notice: OrderNotice, payment: Payment, code: str) -> None:
    logger.warning(
        "Order %s refused %s of payment %s: %s", payment.order_id, notice.kind, payment.id, code
    )
    if notice.kind == OrderNotice.Kind.PAYMENT_SUCCEEDED:
        # Money arrived for an order that cannot take it (cancelled meanwhile): it goes back.
        order_refused_payment(payment_id=payment.id, code=code)


def drain(*, limit: int | None = None) -> tuple[int, int]:
    """Delivers pending notices, oldest first, stopping at the first the order service does not
    take: the others would wait out the same timeouts, and a payment's later notices must not
    overtake it. Returns (delivered, still pending)."""
    pending = OrderNotice.objects.filter(done_at=None).select_related("payment").order_by("id")
    delivered = 0
    for notice in list(pending[:limit]):
        if not deliver(notice):
            break
        delivered += 1
    return delivered, OrderNotice.objects.filter(done_at=None).count()
