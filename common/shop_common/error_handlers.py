"""The one place that turns every error into the error shape: DRF's handler, Django's, and a middleware.

Views never build error JSON by hand; they raise, and one of these answers.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from shop_common import errors
from shop_common.request_id import current_request_id

logger = logging.getLogger("shop.errors")

# DRF's own default codes, renamed where the contract names them differently.
_DRF_CODES = {
    "invalid": errors.VALIDATION_ERROR,
    "parse_error": errors.MALFORMED_JSON,
}

_DEFAULT_MESSAGES = {
    errors.VALIDATION_ERROR: "The request has invalid fields.",
    errors.MALFORMED_JSON: "The request body is not valid JSON.",
    errors.NOT_FOUND: "Nothing is found at this path.",
    errors.INTERNAL_ERROR: "An unexpected error occurred; quote the request id when reporting it.",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status: int, code: str, message: str | None = None, details: dict[str, Any] | None = None
) -> JsonResponse:
    """A plain Django response in the error shape, for code that runs outside DRF views."""
    return JsonResponse(
        error_body(code, message or _DEFAULT_MESSAGES.get(code, code), details), status=status
    )


def internal_error_details() -> dict[str, Any]:
    return {"request_id": current_request_id()}


def malformed_request(exc: Exception | None, *, log: bool = True) -> errors.ServiceError:
    """A request Django refuses (``SuspiciousOperation``: a Host not in ALLOWED_HOSTS, a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, ...; or ``BadRequest``) is the client's error: 400, never a 500.
    Logged as one warning line without a traceback (Django's own handler would log it as an
    ERROR with one, and a scanner sends such requests all day)."""
    if log and exc is not None:
        logger.warning("Refused a malformed request: %s", exc)
    if isinstance(exc, RequestDataTooBig):
        return errors.PayloadTooLarge(settings.MAX_REQUEST_BODY_BYTES)
    if isinstance(exc, DisallowedHost):
        return errors.ServiceError(
            "The Host header names a host this service does not serve.",
            code=errors.DISALLOWED_HOST,
        )
    return errors.ServiceError("The request is malformed.", code=errors.BAD_REQUEST)


def service_error_response(error: errors.ServiceError) -> JsonResponse:
    """A domain error as a plain Django response, for code that runs outside DRF views."""
    return JsonResponse(_drf_error_body(error), status=error.status_code)


def _bad_request_response(exc: Exception | None) -> JsonResponse:
    return service_error_response(malformed_request(exc))


def reject_disallowed_host(request: HttpRequest) -> JsonResponse | None:
    """The 400 for a request whose Host is not in ALLOWED_HOSTS, or None when the Host is fine.

    Django itself checks the Host only when something calls ``request.get_host()`` (a redirect,
    ``build_absolute_uri``, a cache key), so without this /health/ answered any Host and
    /products/ a 500. ``RequestIdMiddleware``, the outermost middleware, calls this first on every
    request, before the SSL redirect or any view can ask for the host.
    """
    try:
        request.get_host()
    except DisallowedHost as exc:
        return _bad_request_response(exc)
    return None


def _drf_error_body(exc: drf_exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, errors.ServiceError):
        return error_body(exc.code, exc.message, exc.details)
    code = _DRF_CODES.get(exc.default_code, exc.default_code)
    if isinstance(exc, drf_exceptions.ValidationError):
        detail = exc.detail
        details = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        return error_body(code, _DEFAULT_MESSAGES[errors.VALIDATION_ERROR], details)
    if isinstance(exc, drf_exceptions.ParseError):
        return error_body(
            code, _DEFAULT_MESSAGES[errors.MALFORMED_JSON], {"reason": str(exc.detail)}
        )
    details: dict[str, Any] = {}
    if isinstance(exc, drf_exceptions.Throttled) and exc.wait is not None:
        details["retry_after_seconds"] = exc.wait
    return error_body(code, str(exc.detail), details)


def database_unavailable(exc: Exception) -> errors.DependencyUnavailable:
    """A database that cannot be reached is a dependency down (503), not a bug of ours (500)."""
    logger.error("The database is unreachable: %s", exc)
    return errors.DependencyUnavailable("database")


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every exception a DRF view raises ends here."""
    if isinstance(exc, OperationalError | InterfaceError):
        exc = database_unavailable(exc)
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    elif isinstance(exc, BadRequest | SuspiciousOperation):
        exc = malformed_request(exc)

    if isinstance(exc, drf_exceptions.APIException):
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        set_rollback()
        return Response(_drf_error_body(exc), status=exc.status_code, headers=headers)

    set_rollback()
    request = context.get("request")
    logger.error(
        "Unhandled exception in %s %s",
        getattr(request, "method", "?"),
        getattr(request, "path", "?"),
        exc_info=exc,
    )
    return Response(
        error_body(
            errors.INTERNAL_ERROR,
            _DEFAULT_MESSAGES[errors.INTERNAL_ERROR],
            internal_error_details(),
        ),
        status=500,
    )


class ErrorShapeMiddleware:
    """Catches what a non-DRF view raises, with DEBUG on or off, so no HTML error page escapes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse:
        if isinstance(exception, errors.ServiceError):
            return JsonResponse(_drf_error_body(exception), status=exception.status_code)
        if isinstance(exception, OperationalError | InterfaceError):
            unavailable = database_unavailable(exception)
            return JsonResponse(_drf_error_body(unavailable), status=unavailable.status_code)
        if isinstance(exception, Http404):
            return error_response(404, errors.NOT_FOUND)
        if isinstance(exception, PermissionDenied):
            return error_response(403, errors.PERMISSION_DENIED, "You may not do this.")
        if isinstance(exception, BadRequest | SuspiciousOperation):
            return _bad_request_response(exception)
        logger.error(
            "Unhandled exception in %s %s", request.method, request.path, exc_info=exception
        )
        return error_response(500, errors.INTERNAL_ERROR, details=internal_error_details())


# Django's own handlers (for errors raised outside views, e.g. in middleware); set in each urls.py.
def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    # Django has logged the exception already (logger django.security.*) before calling this.
    error = malformed_request(exception, log=False)
    return JsonResponse(_drf_error_body(error), status=error.status_code)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(403, errors.PERMISSION_DENIED, "You may not do this.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(404, errors.NOT_FOUND)


def server_error(request: HttpRequest) -> JsonResponse:
    return error_response(500, errors.INTERNAL_ERROR, details=internal_error_details())
