"""OpenAPI (drf-spectacular) for the shared pieces: the bearer schemes, component names, the error
answers every operation can give, and paginated lists as pages (docs/architecture.md, "Errors")."""

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.settings import api_settings

from shop_common.fields import IdField
from shop_common.pagination import PageNumberPagination

ERROR_COMPONENT = "Error"

# DRF's CharField refuses a NUL character anywhere, and blank text (after trimming) unless
# allow_blank: the patterns of a request's text fields say so.
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = r"^[^\u0000]*[^\u0000\s][^\u0000]*$"

# What shop_common.pagination reads: a page from 1, a page size of 1 to 100.
PAGE_PARAMETER_BOUNDS: dict[str, dict[str, int]] = {
    "page": {"minimum": 1},
    "page_size": {"minimum": 1, "maximum": PageNumberPagination.max_page_size},
}

# Service-to-service endpoints: left out of every service's public schema (/api/schema/ and
# docs/api/<service>.yaml) and documented apart (docs/api/<service>.internal.yaml).
INTERNAL_PREFIX = "/internal/"


def public_operations(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """drf-spectacular preprocessing hook (SPECTACULAR_SETTINGS): every operation but /internal/."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(INTERNAL_PREFIX)]


def internal_operations(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(INTERNAL_PREFIX)]


# ``manage.py spectacular --custom-settings shop_common.schema.INTERNAL_SCHEMA`` (make schema).
INTERNAL_SCHEMA: dict[str, Any] = {
    "PREPROCESSING_HOOKS": ["shop_common.schema.internal_operations"],
    "DESCRIPTION": "Service-to-service endpoints: callers need a service token with the internal "
    "scope, and each endpoint names the services it accepts (docs/auth.md).",
}

# The one error shape (shop_common.error_handlers.error_body), as a component.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error answer of every service has this shape.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "snake_case, stable: validation_error, not_found, ...",
                },
                "message": {"type": "string", "description": "A sentence for people."},
                "details": {
                    "type": "object",
                    "additionalProperties": {},
                    "description": "Field messages for validation_error; otherwise the "
                    "error's own facts (resource, service, retry_after_seconds, request_id).",
                },
            },
            "required": ["code", "message", "details"],
        },
    },
    "required": ["error"],
}

ERROR_DESCRIPTIONS = {
    400: "Invalid fields, parameters or JSON (validation_error, malformed_json, bad_request).",
    401: "No credentials, or bad, expired or revoked ones.",
    403: "The caller may not do this (permission_denied).",
    404: "Nothing here, or not the caller's to see.",
    405: "This method is not allowed here.",
    409: "The request conflicts with the current state.",
    413: "The request body is too large (payload_too_large).",
    415: "The body is not application/json (unsupported_media_type).",
    422: "The request is well formed but cannot be processed as it stands.",
    429: "Too many requests; retry after Retry-After seconds (throttled).",
    503: "The service's database or a service it depends on is down (dependency_unavailable).",
}


class AutoSchema(SpectacularAutoSchema):
    """Names a view's nested ``InputSerializer`` after the view (``LoginApi.InputSerializer`` →
    ``LoginInput``), so the one-serializer-per-API-class habit gives distinct components.

    Declares every operation's error answers, derived from the view rather than listed by hand:
    400 with a body or query parameters; 401 with authentication classes; 403 with a permission
    class other than AllowAny; 404 with path parameters, a paginated list (a page past the end) or
    a body that names another resource by ``IdField`` (a product, an order); 413 and 415 with a body; 429 with throttle classes; 503 always (the database or another
    service down). What a view raises itself (a 409, a 422, the login's own 401 and 429) it
    declares in its ``extend_schema(responses={..., 409: raises("why")})``: any error status given
    without a body gets the error shape here.

    A GET whose response is ``Serializer(many=True)`` is documented as a page of the shared
    paginator, unless the view sets ``pagination_class`` itself (``None``: a bare array). The
    list APIs are plain APIViews that page by hand, and drf-spectacular pages only views with a
    ``pagination_class`` attribute, so without this they were documented as bare arrays.
    """

    def _get_serializer_name(
        self, serializer: Any, direction: str, bypass_extensions: bool = False
    ) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        qualname = type(serializer).__qualname__
        if "." in qualname and "<locals>" not in qualname:
            owner = qualname.split(".", 1)[0].removesuffix("Api").removesuffix("View")
            if not name.startswith(owner):
                name = f"{owner}{name}"
        return name

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        # drf-spectacular leaves out a list's bounds (allow_empty, min_length, max_length) that DRF
        # checks: an empty ``items`` looked valid and was a 400.
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(
            field, serializers.ListSerializer | serializers.ListField
        ):
            if getattr(field, "min_length", None) is not None:
                schema.setdefault("minItems", field.min_length)
            elif not getattr(field, "allow_empty", True):
                schema.setdefault("minItems", 1)
            if getattr(field, "max_length", None) is not None:
                schema.setdefault("maxItems", field.max_length)
        return schema

    def _get_serializer_field_meta(self, field: Any, direction: str) -> dict[str, Any]:
        # What DRF refuses in a request's text field (blank, a NUL), the schema says: else it
        # promises that a request the view refuses is valid.
        meta = super()._get_serializer_field_meta(field, direction)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and not field.allow_blank
            and not field.read_only
        ):
            meta.setdefault("minLength", 1)
            patterned = any(isinstance(check, RegexValidator) for check in field.validators)
            if not patterned:
                meta.setdefault("pattern", NOT_BLANK if field.trim_whitespace else NO_NUL)
        elif direction == "request" and type(field) is serializers.CharField:
            meta.setdefault("pattern", NO_NUL)
        return meta

    def _get_paginator(self) -> Any:
        if self.method == "GET" and not hasattr(self.view, "pagination_class"):
            pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
            return pagination_class() if pagination_class else None
        return super()._get_paginator()

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        error = self._error_content()
        for status in self._error_statuses(operation):
            responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] in PAGE_PARAMETER_BOUNDS:
                parameter["schema"].update(PAGE_PARAMETER_BOUNDS[parameter["name"]])
        for code, response in responses.items():
            if code[0] in "45" and "content" not in response:
                response["content"] = error
                if response.get("description") in ("", "No response body"):
                    response["description"] = ERROR_DESCRIPTIONS.get(int(code), "An error.")
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_content(self) -> dict[str, Any]:
        component = ResolvedComponent(
            name=ERROR_COMPONENT,
            type=ResolvedComponent.SCHEMA,
            schema=ERROR_SCHEMA,
            object=ERROR_COMPONENT,
        )
        self.registry.register_on_missing(component)
        return {
            media_type: {"schema": component.ref} for media_type in self.map_renderers("media_type")
        }

    def _error_statuses(self, operation: dict[str, Any]) -> list[int]:
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        paginated = self.method == "GET" and self._is_list_view() and self._get_paginator()
        statuses = {503}
        if has_body or any(parameter["in"] == "query" for parameter in parameters):
            statuses.add(400)
        if has_body:
            statuses |= {413, 415}
        if self.view.get_authenticators():
            statuses.add(401)
        if any(not isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            statuses.add(403)
        if (
            paginated
            or any(parameter["in"] == "path" for parameter in parameters)
            or (has_body and names_a_resource(self.get_request_serializer()))
        ):
            statuses.add(404)
        if self.view.get_throttles():
            statuses.add(429)
        return sorted(statuses)


# Query filters as the shop's FilterSets read them (shop_common.filters): an empty value is no
# filter, anything else must parse. For ``OpenApiParameter(name, <one of these>)``.
EMPTY = {"type": "string", "maxLength": 0}
DECIMAL_FILTER: dict[str, Any] = {"type": "string", "pattern": r"^(-?[0-9]{1,10}(\.[0-9]{1,2})?)?$"}
DATE_FILTER: dict[str, Any] = {"oneOf": [{"type": "string", "format": "date"}, EMPTY]}


def choice_filter(choices: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": [*choices, ""]}


def raises(description: str) -> OpenApiResponse:
    """An error status a view raises itself, for its ``extend_schema``:
    ``responses={201: ProductOutput, 409: raises("The SKU is taken.")}``. The AutoSchema gives it
    the error shape."""
    return OpenApiResponse(description=description)


def names_a_resource(serializer: Any) -> bool:
    """Whether a request body holds an ``IdField`` anywhere (nested serializers and lists too): the
    resource it names may not exist, a 404. A ``PrimaryKeyRelatedField`` is left out on purpose:
    DRF answers its missing object with a 400."""
    if isinstance(serializer, type):
        serializer = serializer()
    if isinstance(serializer, serializers.ListSerializer | serializers.ListField):
        return names_a_resource(serializer.child)
    if isinstance(serializer, serializers.BaseSerializer):
        return hasattr(serializer, "fields") and any(
            names_a_resource(field) for field in serializer.fields.values()
        )
    return isinstance(serializer, IdField)


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "shop_common.auth.BearerTokenAuthentication"
    match_subclasses = True
    name = "userToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from POST /auth/login/ of the user service.",
        }


class ServiceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "shop_common.auth.ServiceTokenAuthentication"
    match_subclasses = True
    name = "serviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "A shop service's OAuth2 client-credentials token with scope internal: a JWT the "
                "user service signs (EdDSA; public keys at GET /o/jwks/ of the user service)."
            ),
        }
