"""X-Request-ID: taken from the request when it is sane, made up otherwise, returned, logged, forwarded."""

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)

access_log = logging.getLogger("shop.access")


def current_request_id() -> str | None:
    return _current.get()


def accept_or_create(candidate: str | None) -> str:
    # An id that could smuggle line breaks or markup into a log is replaced, not trusted.
    if candidate and _VALID_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Outermost middleware: binds the id for the request's lifetime and writes one access line.

    Being first, it also refuses a Host that is not in ALLOWED_HOSTS (a 400 in the error shape)
    before any other middleware or view runs: see ``error_handlers.reject_disallowed_host``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        # Imported here: error_handlers imports this module (for the current request id).
        from shop_common.error_handlers import reject_disallowed_host

        self.get_response = get_response
        self.reject_disallowed_host = reject_disallowed_host

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accept_or_create(request.headers.get(HEADER))
        request.request_id = request_id
        binding = _current.set(request_id)
        started = time.perf_counter()
        try:
            response = self.reject_disallowed_host(request) or self.get_response(request)
            response[HEADER] = request_id
            # The path only: a query string may carry a token (GET /auth/validate_token?token=).
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            _current.reset(binding)
