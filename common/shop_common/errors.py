"""Error codes and the domain errors every service raises; one handler turns them into the error shape.

The shape, everywhere: ``{"error": {"code": "snake_case", "message": "sentence", "details": {}}}``.
"""

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException

from shop_common.topology import SERVICES_BY_NAME

# Codes of the errors the framework itself raises (Saleor's error_codes.py idea).
VALIDATION_ERROR = "validation_error"
MALFORMED_JSON = "malformed_json"
NOT_AUTHENTICATED = "not_authenticated"
AUTHENTICATION_FAILED = "authentication_failed"
PERMISSION_DENIED = "permission_denied"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
NOT_ACCEPTABLE = "not_acceptable"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
THROTTLED = "throttled"
BAD_REQUEST = "bad_request"
# A Host header that is not in ALLOWED_HOSTS.
DISALLOWED_HOST = "disallowed_host"
PAYLOAD_TOO_LARGE = "payload_too_large"
JSON_TOO_COMPLEX = "json_too_complex"
CONFLICT = "conflict"
DEPENDENCY_UNAVAILABLE = "dependency_unavailable"
INTERNAL_ERROR = "internal_error"


class ServiceError(APIException):
    """A domain error with its own code; subclasses set ``status_code`` and ``default_code``."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = BAD_REQUEST
    default_detail = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or str(self.default_detail)
        self.code = code or self.default_code
        self.details = details or {}
        super().__init__(detail=self.message, code=self.code)


class ResourceNotFoundException(ServiceError):
    """A resource that does not exist, or that the caller may not know exists (never a 403)."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = NOT_FOUND
    default_detail = "The resource was not found."

    def __init__(self, resource: str = "resource", identifier: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("code", f"{resource}_not_found" if resource != "resource" else NOT_FOUND)
        kwargs.setdefault(
            "details", {"resource": resource} | ({} if identifier is None else {"id": identifier})
        )
        message = kwargs.pop("message", None) or f"The {resource.replace('_', ' ')} was not found."
        super().__init__(message, **kwargs)


class ConflictError(ServiceError):
    status_code = status.HTTP_409_CONFLICT
    default_code = CONFLICT
    default_detail = "The request conflicts with the current state."


class DependencyUnavailable(ServiceError):
    """Another service (or this service's database) did not answer in time."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = DEPENDENCY_UNAVAILABLE

    def __init__(self, service: str, *, reason: str | None = None) -> None:
        known = SERVICES_BY_NAME.get(service)
        display = known.display_name if known else f"{service} service"
        details: dict[str, Any] = {"service": service}
        if reason:
            details["reason"] = reason
        super().__init__(f"The {display} is unavailable; try again shortly.", details=details)
        self.service = service


# Domain errors more than one service raises (the product service's reservation, the order service
# passing it on; the cart and the order refusing mixed currencies; the order and the checkout
# refusing a reused Idempotency-Key).
class OutOfStock(ConflictError):
    default_code = "out_of_stock"
    default_detail = "Not enough stock for some lines; nothing was reserved."


class CurrencyMismatch(ConflictError):
    default_code = "currency_mismatch"
    default_detail = "One cart or order holds products of one currency only."


class IdempotencyKeyReused(ServiceError):
    """An ``Idempotency-Key`` sent again with another body (shop_common.idempotency)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was used with another request body."


class GatewayNotAvailable(ServiceError):
    """A payment gateway this shop does not offer (``PAYMENT_GATEWAYS``), naming those it does."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "gateway_not_available"

    def __init__(self, gateway: str, available: list[str]) -> None:
        super().__init__(
            f"The gateway {gateway!r} is not available here; choose one of {', '.join(available)}.",
            details={"gateway": gateway, "available": available},
        )


class PayloadTooLarge(ServiceError):
    """A request body over ``MAX_REQUEST_BODY_BYTES``: refused before it is read or parsed."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = PAYLOAD_TOO_LARGE

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The request body is larger than {limit} bytes.", details={"max_bytes": limit}
        )


class JsonTooComplex(ServiceError):
    """JSON nested deeper than ``JSON_MAX_DEPTH`` or with more than ``JSON_MAX_ITEMS`` values."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = JSON_TOO_COMPLEX
