"""Request deadlines: every request has a time budget that its calls to other services share.

The budget of an inbound request is ``REQUEST_BUDGET_SECONDS`` from its arrival. A caller
authenticated as one of the shop's services (by its service token, or, when it calls on a person's
behalf with their token, by its own signed service token in ``X-Shop-Service-Token``) may shorten
it with ``X-Request-Deadline``: an
absolute UTC time such as ``2026-11-26T10:15:30.250Z``. The edge only keeps the claimed deadline
aside (:func:`within_budget`); the service-token authentication applies it
(:func:`honour_claimed_deadline`), and a service's request whose deadline has already passed is
refused before any work (503 ``deadline_exceeded``): the service that sent it has stopped waiting.
Anyone else's header is ignored: an outsider could otherwise cut the budget of its own request or
have it refused as a 5xx, which the alert on server errors counts (docs/scaling.md).

The deadline is bound in a contextvar like the request id; ``service_client`` cuts every call's
timeouts to the time left and sends the deadline on, so the whole chain gives up together
(docs/architecture.md).
"""

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework import status

from shop_common.errors import ServiceError

HEADER = "X-Request-Deadline"
META_KEY = "HTTP_X_REQUEST_DEADLINE"  # where WSGI puts it (request_id.META_KEY)
# A shop service calling another on a person's behalf (with their token) sends its own service
# token here too: its deadline then counts (shop_common.auth.BearerTokenAuthentication).
SERVICE_TOKEN_HEADER = "X-Shop-Service-Token"  # noqa: S105 (a header name, not a secret)
DEADLINE_EXCEEDED = "deadline_exceeded"

# Seconds since the epoch (wall clock, so it means the same in every process it is sent to).
_current: ContextVar[float | None] = ContextVar("request_deadline", default=None)

logger = logging.getLogger("shop.deadlines")


class DeadlineExceeded(ServiceError):
    """The request's time budget is spent: its caller has stopped waiting for the answer."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = DEADLINE_EXCEEDED
    default_detail = "The request's deadline has passed; nothing was done."


def current_deadline() -> float | None:
    return _current.get()


def time_left() -> float | None:
    """Seconds until the current deadline (negative once past), or None without a deadline."""
    deadline = _current.get()
    return None if deadline is None else deadline - time.time()


def check() -> None:
    """Raises :class:`DeadlineExceeded` when the budget is spent: call it right before committing
    work that the caller may already have been told failed."""
    left = time_left()
    if left is not None and left <= 0:
        raise DeadlineExceeded(details={"late_by_ms": round(-left * 1000)})


def format_deadline(deadline: float) -> str:
    moment = datetime.fromtimestamp(deadline, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_deadline(value: str | None) -> float | None:
    """The deadline a header names, or None when it is missing or not an absolute time with a zone
    (a malformed header is ignored, not refused: the service's own budget still applies)."""
    if not value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp()


@contextlib.contextmanager
def budget(seconds: float | None, *, deadline: float | None = None) -> Iterator[float | None]:
    """Binds a deadline ``seconds`` from now (None or <= 0: no budget of its own), or ``deadline``
    when that is earlier, or the enclosing one when that is earlier still."""
    candidates = [
        moment
        for moment in (
            time.time() + seconds if seconds and seconds > 0 else None,
            deadline,
            _current.get(),
        )
        if moment is not None
    ]
    bound = min(candidates) if candidates else None
    token = _current.set(bound)
    try:
        yield bound
    finally:
        _current.reset(token)


def within_budget(
    request: HttpRequest, handle: Callable[[HttpRequest], HttpResponse]
) -> HttpResponse:
    """``handle(request)`` under the service's own budget. The edge (shop_common.edge) calls it for
    every request, after the request id is bound. The caller's ``X-Request-Deadline`` is only kept
    on the request (``claimed_deadline``): it counts once the caller is known to be a shop service
    (:func:`honour_claimed_deadline`)."""
    request.claimed_deadline = parse_deadline(request.META.get(META_KEY))
    with budget(settings.REQUEST_BUDGET_SECONDS):
        return handle(request)


def honour_claimed_deadline(request: HttpRequest) -> None:
    """Called by the service-token authentication once the caller is one of the shop's services:
    the deadline it sent becomes the request's when it is earlier, and one already past refuses
    the request (:class:`DeadlineExceeded`) before the view does any work.

    Bound for the rest of the request: the edge's :func:`budget` restores what was bound before it
    when the request ends."""
    claimed = getattr(request, "claimed_deadline", None)
    if claimed is None:
        return
    current = _current.get()
    if current is None or claimed < current:
        _current.set(claimed)
    left = time_left()
    if left is not None and left <= 0:
        logger.warning(
            "Refused %s %s: its deadline passed %d ms ago",
            request.method,
            request.path,
            round(-left * 1000),
        )
        raise DeadlineExceeded(details={"late_by_ms": round(-left * 1000)})
