"""The outbox: stock releases the product service must get even when it is down at that moment.

A release is written here (in the same transaction as the cancellation it belongs to), tried at
once, and, if the product service does not answer, delivered later by ``manage.py drain_outbox``
(every minute under ``make run``) or right after a response during which the product service
answered again. Releases are idempotent by order reference, so delivering one twice is harmless.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from orders import clients
from orders.models import OutboxCall
from shop_common import deadlines
from shop_common.errors import DependencyUnavailable

logger = logging.getLogger("shop.orders.outbox")

# Pauses between attempts pace the drains that follow responses; the periodic drain tries every
# pending call at each run, so a reservation goes back within a minute of the product service
# returning however long it was away.
MAX_PAUSE_SECONDS = 60
# At most this many calls after one response: the worker is not free for the next request until done.
DRAIN_AFTER_RESPONSE_LIMIT = 20


def record_release(*, order_ref: str) -> OutboxCall:
    """The pending release of ``order_ref``; asking again for the same order is the same call."""
    call, _ = OutboxCall.objects.get_or_create(
        kind=OutboxCall.Kind.RELEASE_STOCK,
        order_ref=order_ref,
        defaults={"next_attempt_at": timezone.now()},
    )
    return call


def deliver(call: OutboxCall) -> bool:
    """One attempt at ``call``; True when the product service has it."""
    if call.done_at is not None:
        return True
    now = timezone.now()
    try:
        outcome = clients.release_stock(order_ref=call.order_ref)
    except DependencyUnavailable as unavailable:
        pause = min(5 * 2**call.attempts, MAX_PAUSE_SECONDS)
        OutboxCall.objects.filter(pk=call.pk, done_at=None).update(
            attempts=F("attempts") + 1,
            next_attempt_at=now + timedelta(seconds=pause),
            last_error=f"{unavailable.details.get('reason', '')}: {unavailable.message}"[:500],
        )
        logger.warning(
            "Stock release of %s not delivered (attempt %d); retried by the outbox",
            call.order_ref,
            call.attempts + 1,
            extra={"order_ref": call.order_ref},
        )
        return False
    OutboxCall.objects.filter(pk=call.pk, done_at=None).update(
        attempts=F("attempts") + 1, done_at=now, last_error="" if outcome == "released" else outcome
    )
    if call.attempts:
        logger.info(
            "Stock release of %s delivered after %d failed attempts (%s)",
            call.order_ref,
            call.attempts,
            outcome,
            extra={"order_ref": call.order_ref},
        )
    return True


def deliver_now(call: OutboxCall) -> bool:
    """``deliver`` within half the time the request has left: the rest is for answering it."""
    left = deadlines.time_left()
    with deadlines.budget(None if left is None else left / 2):
        return deliver(call)


def release_stock(*, order_ref: str) -> bool:
    """Records the release of ``order_ref`` and tries it now; True when it was delivered."""
    return deliver_now(record_release(order_ref=order_ref))


def drain(*, limit: int | None = None, due_only: bool = True) -> tuple[int, int]:
    """Delivers pending calls, oldest first (with ``due_only``, those whose pause is over),
    stopping at the first the product service does not take: the others would wait out the same
    timeouts. Returns (delivered, still pending)."""
    calls = OutboxCall.objects.filter(done_at=None)
    if due_only:
        calls = calls.filter(next_attempt_at__lte=timezone.now())
    delivered = 0
    for call in list(calls[:limit]):
        if not deliver(call):
            break
        delivered += 1
    return delivered, OutboxCall.objects.filter(done_at=None).count()


def drain_after_response(**kwargs: object) -> None:
    """``request_finished``: once a response during which the product service answered is out, the
    calls waiting for it go too, so a reservation does not wait for the next periodic drain."""
    if not clients.product_answered_since_last_asked():
        return
    if not OutboxCall.objects.filter(done_at=None, next_attempt_at__lte=timezone.now()).exists():
        return
    try:
        with deadlines.budget(settings.REQUEST_BUDGET_SECONDS):
            drain(limit=DRAIN_AFTER_RESPONSE_LIMIT)
    except Exception:
        # Nobody waits for this answer any more; the periodic drain tries again.
        logger.exception("Draining the outbox after a response failed")
