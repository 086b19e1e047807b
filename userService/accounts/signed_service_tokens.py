"""The user service's side of signed service tokens (shop_common.signed_tokens): the access token
django-oauth-toolkit issues to one of the shop's six services for client credentials is a JWT
signed with ``SERVICE_TOKEN_SIGNING_KEY``, lives ``SERVICE_TOKEN_SECONDS``, and is still stored
(as its checksum) like every other token, so it can be revoked and introspected here. Every other
token (a person's, an outside application's) is oauthlib's random string, as before.

``GET /o/jwks/`` publishes the public keys the other services check them with."""

import functools
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from oauthlib.oauth2.rfc6749.tokens import random_token_generator

from shop_common import signed_tokens


@functools.cache
def _keys(setting: str) -> list:
    return signed_tokens.signing_keys(setting)


def signing_keys() -> list:
    return _keys(settings.SERVICE_TOKEN_SIGNING_KEY)


def _is_shop_service_grant(request: Any) -> bool:
    # Imported here: the settings name this module's functions before the apps are loaded.
    from accounts.oauth import is_shop_service

    return request.grant_type == "client_credentials" and is_shop_service(
        getattr(request, "client", None)
    )


def token_lifetime(request: Any) -> int:
    """``ACCESS_TOKEN_EXPIRE_SECONDS``: a shop service's token is short-lived (nobody can revoke
    it at the services that check it themselves before it expires); other tokens as configured."""
    if _is_shop_service_grant(request):
        return settings.SERVICE_TOKEN_SECONDS
    return settings.OAUTH_ACCESS_TOKEN_SECONDS


def access_token(request: Any) -> str:
    """``ACCESS_TOKEN_GENERATOR``: a signed token for a shop service's client credentials."""
    if _is_shop_service_grant(request):
        return signed_tokens.sign(
            signing_keys()[0],
            client_id=request.client.client_id,
            scopes=request.scopes or (),
            lifetime=int(request.expires_in),
        )
    return random_token_generator(request)


@csrf_exempt
@require_GET
def jwks_view(request: HttpRequest) -> JsonResponse:
    """The public keys of the service tokens (public: they can check a signature, not make one)."""
    response = JsonResponse(signed_tokens.jwks(signing_keys()))
    response["Cache-Control"] = "public, max-age=300"
    return response
