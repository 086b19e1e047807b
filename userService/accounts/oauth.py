"""The OAuth2 provider as the shop uses it (django-oauth-toolkit), and nothing more.

- Mounted: authorize, token, revoke, introspect (:data:`urlpatterns`); application management and
  the library's other views are not (applications are made in the Django admin, by an ADMIN).
- Scopes: ``internal`` and ``introspection`` belong to the shop's six service clients only
  (``shop-<service>``, confidential, client credentials); everyone else gets ``read``/``write``.
- User tokens come only from first-party applications (``OAUTH_FIRST_PARTY_CLIENTS``); the
  password and implicit grants are off (the library's RFC 9700 settings).
- Every client-secret check is throttled like a password (accounts.throttles); introspection takes
  only a service's bearer token, so it checks no secret at all.

See docs/auth.md ("OAuth2").
"""

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as oauth_views
from oauth2_provider.models import AbstractApplication
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes

from accounts.throttles import PasswordGuard, TooManyAttempts
from shop_common.auth import SERVICE_CLIENTS
from shop_common.client_address import client_address
from shop_common.error_handlers import error_response
from shop_common.errors import THROTTLED

SERVICE_ONLY_SCOPES = frozenset({"internal", "introspection"})


def is_shop_service(application: AbstractApplication | None) -> bool:
    """One of the shop's own six services: the only holders of ``internal`` and ``introspection``."""
    return (
        application is not None
        and application.client_id in SERVICE_CLIENTS
        and application.client_type == AbstractApplication.CLIENT_CONFIDENTIAL
        and application.authorization_grant_type == AbstractApplication.GRANT_CLIENT_CREDENTIALS
    )


class ShopScopes(SettingsScopes):
    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        scopes = super().get_available_scopes(application, request, *args, **kwargs)
        if is_shop_service(application):
            return [scope for scope in scopes if scope in SERVICE_ONLY_SCOPES]
        return [scope for scope in scopes if scope not in SERVICE_ONLY_SCOPES]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        if is_shop_service(application):
            return ["internal"]
        return super().get_default_scopes(application, request, *args, **kwargs)


def is_first_party(client_id: str | None) -> bool:
    return client_id in settings.OAUTH_FIRST_PARTY_CLIENTS


class ShopOAuth2Validator(OAuth2Validator):
    """Only first-party applications act for a person: any grant but client credentials, and the
    authorization endpoint itself, are refused to every other application."""

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs) -> bool:
        if grant_type != "client_credentials" and not is_first_party(client_id):
            return False
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def validate_response_type(
        self, client_id, response_type, client, request, *args, **kwargs
    ) -> bool:
        if not is_first_party(client_id):
            return False
        return super().validate_response_type(
            client_id, response_type, client, request, *args, **kwargs
        )


def _client_id(request: HttpRequest) -> str:
    """The client id a token or revoke request authenticates as (Basic auth or the body)."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return unquote(decoded.partition(":")[0])
    return str(request.POST.get("client_id", ""))


class ClientSecretThrottleMixin:
    """A client secret is a password: refused before it is checked once the client id or the
    address failed too often, and a refused one counts against both."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        guard = PasswordGuard(
            account=f"oauth-client:{_client_id(request)}", address=client_address(request)
        )
        try:
            guard.check()
        except TooManyAttempts as exc:
            response = error_response(429, THROTTLED, exc.message, exc.details)
            response["Retry-After"] = str(exc.wait)
            return response
        response = super().post(request, *args, **kwargs)
        if response.status_code == 401:
            guard.failed()
        return response


class TokenView(ClientSecretThrottleMixin, oauth_views.TokenView):
    pass


class RevokeTokenView(ClientSecretThrottleMixin, oauth_views.RevokeTokenView):
    pass


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectTokenView(oauth_views.IntrospectTokenView):
    """For the shop's services, with their own ``introspection`` token as ``Authorization:
    Bearer``: a lookup by checksum. Client secrets are not taken here (each would cost a password
    hash, and none is needed)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token or "client_secret" in request.POST:
            response = error_response(
                401,
                "invalid_client",
                "Introspection takes a service's bearer token with the scope 'introspection'.",
            )
            response["WWW-Authenticate"] = 'Bearer realm="shop", scope="introspection"'
            return response
        return super().dispatch(request, *args, **kwargs)

    def authenticate_client(self, request: HttpRequest) -> bool:
        """Never: the library tries client authentication (Basic, or the body) before the bearer
        token, and its body check takes a public client's id alone when the body names the
        device-code grant, which let a request with any bearer through. Only the bearer token, with
        its scope, is checked here; it also saves the query for the client (docs/development.md,
        "Counting SQL statements")."""
        return False


app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", oauth_views.AuthorizationView.as_view(), name="authorize"),
    path("token/", TokenView.as_view(), name="token"),
    path("revoke_token/", RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", IntrospectTokenView.as_view(), name="introspect"),
]
