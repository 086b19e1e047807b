"""OpenAPI (drf-spectacular) for the shared pieces: the bearer schemes and component names."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Names a view's nested ``InputSerializer`` after the view (``LoginApi.InputSerializer`` →
    ``LoginInput``), so the one-serializer-per-API-class habit gives distinct components."""

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
            "description": "A service's OAuth2 client-credentials token with scope internal.",
        }
