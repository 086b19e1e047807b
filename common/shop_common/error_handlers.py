"""The one place that turns every error into the error shape: DRF's handler, Django's, and the edge's.

Views never build error JSON by hand; they raise, and one of these answers.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
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


def status_and_error(failure: errors.ServiceError) -> dict[str, Any]:
    """A failure carried inside a successful answer (a checkout's ``payment_error``): its status
    beside its error body."""
    return {
        "status": failure.status_code,
        **error_body(failure.code, failure.message, failure.details),
    }


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


def reject_disallowed_host(request: HttpRequest) -> JsonResponse | None:
    """The 400 for a request whose Host is not in ALLOWED_HOSTS, or None when the Host is fine.

    Django itself checks the Host only when something calls ``request.get_host()`` (a redirect,
    ``build_absolute_uri``, a cache key), so without this /health/ answered any Host and
    /products/ a 500. The edge (shop_common.edge), the outermost middleware, calls this first on
    every request, before the SSL redirect or any view can ask for the host.
    """
    try:
        request.get_host()
    except DisallowedHost as exc:
        return service_error_response(malformed_request(exc))
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


class PageNotFound(errors.ServiceError):
    """Django's ``Http404``, wherever it is raised (a path no route matches, a plain view)."""

    status_code = 404
    default_code = errors.NOT_FOUND
    default_detail = _DEFAULT_MESSAGES[errors.NOT_FOUND]


class Forbidden(errors.ServiceError):
    """Django's ``PermissionDenied``; DRF's own (a permission class refusing) keeps its message."""

    status_code = 403
    default_code = errors.PERMISSION_DENIED
    default_detail = "You may not do this."


def as_api_error(exc: Exception) -> drf_exceptions.APIException | None:
    """The API error an exception answers as, or None for a bug (a 500).

    Django's own errors are converted here and nowhere else: a database that cannot be reached
    (503), ``Http404``, ``PermissionDenied``, a request Django refuses (400, 413), and Django's
    ``ValidationError``, which services and selectors raise (a 400 naming the fields, the same
    body a serializer's gives)."""
    if isinstance(exc, drf_exceptions.APIException):
        return exc
    if isinstance(exc, OperationalError | InterfaceError):
        return database_unavailable(exc)
    if isinstance(exc, Http404):
        return PageNotFound()
    if isinstance(exc, PermissionDenied):
        return Forbidden()
    if isinstance(exc, BadRequest | SuspiciousOperation):
        return malformed_request(exc)
    if isinstance(exc, DjangoValidationError):
        return drf_exceptions.ValidationError(as_serializer_error(exc))
    return None


def internal_error_body() -> dict[str, Any]:
    return error_body(
        errors.INTERNAL_ERROR, _DEFAULT_MESSAGES[errors.INTERNAL_ERROR], internal_error_details()
    )


def exception_answer(
    exc: Exception, request: HttpRequest | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Any exception as (status, body in the error shape, headers): the one mapping the DRF
    handler, the middleware and Django's handler views all answer with. An exception that is no
    API error is logged with its traceback and answers a 500 naming only the request id."""
    error = as_api_error(exc)
    if error is None:
        logger.error(
            "Unhandled exception in %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            exc_info=exc,
        )
        return 500, internal_error_body(), {}
    headers: dict[str, str] = {}
    if getattr(error, "auth_header", None):
        headers["WWW-Authenticate"] = error.auth_header
    if getattr(error, "wait", None):
        headers["Retry-After"] = str(int(error.wait))
    return error.status_code, _drf_error_body(error), headers


def exception_response(exc: Exception, request: HttpRequest | None = None) -> JsonResponse:
    """Any exception as a plain Django response in the error shape (shop_common.edge answers what a
    view raises with it)."""
    status, body, headers = exception_answer(exc, request)
    return JsonResponse(body, status=status, headers=headers)


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every exception a DRF view raises ends here."""
    set_rollback()
    status, body, headers = exception_answer(exc, context.get("request"))
    return Response(body, status=status, headers=headers)


# Django's own handlers (for errors raised outside views, e.g. in middleware); set in each urls.py.
def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    # Django has logged the exception already (logger django.security.*) before calling this.
    return exception_response(malformed_request(exception, log=False), request)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return exception_response(PermissionDenied(), request)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return exception_response(Http404(), request)


def server_error(request: HttpRequest) -> JsonResponse:
    # Django has logged the exception already; this only shapes the answer.
    return JsonResponse(internal_error_body(), status=500)
