"""Who is calling: customers and staff with a user token, other services with a service token.

- :class:`BearerTokenAuthentication` — ``Authorization: Bearer <access token>``, validated by the
  user service (``POST /auth/validate/``), the answer cached for ``AUTH_CACHE_TTL`` seconds (never
  past the token's expiry; 0 disables). ``request.user`` becomes an :class:`AuthenticatedUser`.
- :class:`ServiceTokenAuthentication` — an OAuth2 client-credentials token, introspected at the
  user service (``/o/introspect/``) with this service's own client credentials, cached briefly.
- :func:`service_token` — this service's own client-credentials token, for calling ``/internal/``.

The user service answers 503 ``dependency_unavailable`` (never 500, never a false 401) when it
cannot be reached. With a shared Redis the user service marks a revoked session in the cache, and a
cached validation of that session is refused at once; with a local-memory cache the revocation
reaches other services within ``AUTH_CACHE_TTL`` seconds.
"""

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from shop_common.errors import DependencyUnavailable, ServiceError
from shop_common.service_client import service_client

INVALID_TOKEN = "invalid_token"  # noqa: S105 (an error code, not a secret)
REALM = 'Bearer realm="shop"'
_VALIDATION_KEY = "auth:validation:{digest}"
_REVOKED_SESSION_KEY = "auth:revoked-session:{session_id}"
_INTROSPECTION_KEY = "auth:introspection:{digest}"


class InvalidToken(ServiceError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = INVALID_TOKEN
    default_detail = "The token is invalid or expired."
    auth_header = f'{REALM}, error="invalid_token"'


@dataclass(frozen=True)
class AuthenticatedUser:
    """The caller, as the user service vouches for them. Not a database row of this service."""

    id: int
    email: str
    username: str
    roles: frozenset[str]
    expires_at: datetime
    session_id: str = ""
    phone_number: str = ""

    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def pk(self) -> int:
        return self.id

    def has_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    @classmethod
    def from_validation(cls, answer: dict[str, Any]) -> "AuthenticatedUser":
        return cls(
            id=int(answer["user_id"]),
            email=answer["email"],
            username=answer.get("username") or "",
            roles=frozenset(answer.get("roles") or ()),
            expires_at=parse_datetime(answer["expires_at"]),
            session_id=answer.get("session_id") or "",
            phone_number=answer.get("phone_number") or "",
        )


@dataclass(frozen=True)
class ServiceCaller:
    """Another service, authenticated by its OAuth2 client-credentials token."""

    client_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)

    is_authenticated = True
    is_anonymous = False
    roles: frozenset[str] = frozenset()
    pk = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(request: Request) -> str | None:
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() != b"bearer":
        return None
    if len(parts) != 2:
        raise InvalidToken("The Authorization header must be 'Bearer <token>'.")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        raise InvalidToken() from None


def revoked_session_key(session_id: str) -> str:
    return _REVOKED_SESSION_KEY.format(session_id=session_id)


def mark_sessions_revoked(session_ids: list[str], *, for_seconds: int) -> None:
    """Called by the user service when sessions end, so that cached validations die at once."""
    if session_ids:
        cache.set_many({revoked_session_key(sid): True for sid in session_ids}, timeout=for_seconds)


def validate_with_user_service(token: str) -> AuthenticatedUser:
    """The user service's answer for ``token``, from the short cache when it has one."""
    ttl = settings.AUTH_CACHE_TTL
    key = _VALIDATION_KEY.format(digest=_digest(token))
    if ttl > 0:
        answer = cache.get(key)
        if answer is not None:
            user = AuthenticatedUser.from_validation(answer)
            revoked = user.session_id and cache.get(revoked_session_key(user.session_id))
            if user.expires_at > timezone.now() and not revoked:
                return user
            cache.delete(key)
    response = service_client("user").post(
        "/auth/validate/", json={"token": token}, idempotent=True
    )
    if response.status_code in (400, 401):
        raise InvalidToken()
    if response.status_code != 200:
        raise DependencyUnavailable("user", reason=f"validate answered {response.status_code}")
    answer = response.json()
    user = AuthenticatedUser.from_validation(answer)
    lifetime = int((user.expires_at - timezone.now()).total_seconds())
    if ttl > 0 and lifetime > 0:
        cache.set(key, answer, timeout=min(ttl, lifetime))
    return user


class _BearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``, checked by :meth:`caller`. No header: anonymous."""

    def caller(self, token: str) -> Any:
        raise NotImplementedError

    def authenticate(self, request: Request) -> tuple[Any, str] | None:
        token = bearer_token(request)
        if token is None:
            return None
        return self.caller(token), token

    def authenticate_header(self, request: Request) -> str:
        return REALM


class BearerTokenAuthentication(_BearerAuthentication):
    """A person's access token, checked by the user service (cached briefly)."""

    def caller(self, token: str) -> AuthenticatedUser:
        return validate_with_user_service(token)


def introspect_service_token(token: str) -> ServiceCaller:
    """An active client-credentials token and its scopes, per the user service's introspection."""
    key = _INTROSPECTION_KEY.format(digest=_digest(token))
    cached = cache.get(key)
    if cached is not None:
        return ServiceCaller(client_id=cached["client_id"], scopes=frozenset(cached["scopes"]))
    response = service_client("user").post(
        "/o/introspect/",
        data={"token": token},
        auth=(settings.SERVICE_CLIENT_ID, settings.SERVICE_CLIENT_SECRET),
        idempotent=True,
    )
    if response.status_code in (401, 403):
        raise DependencyUnavailable(
            "user", reason="this service's client credentials were refused by introspection"
        )
    if response.status_code != 200:
        raise DependencyUnavailable("user", reason=f"introspection answered {response.status_code}")
    answer = response.json()
    # A user's token (one with a username) is never a service credential.
    if not answer.get("active") or answer.get("username"):
        raise InvalidToken("The service token is invalid or expired.")
    caller = {
        "client_id": answer.get("client_id", ""),
        "scopes": (answer.get("scope") or "").split(),
    }
    lifetime = int(answer.get("exp", 0) - time.time())
    ttl = min(settings.SERVICE_TOKEN_CACHE_TTL, lifetime)
    if ttl > 0:
        cache.set(key, caller, timeout=ttl)
    return ServiceCaller(client_id=caller["client_id"], scopes=frozenset(caller["scopes"]))


class ServiceTokenAuthentication(_BearerAuthentication):
    """For ``/internal/`` endpoints: a service's OAuth2 token, checked by introspection."""

    def caller(self, token: str) -> ServiceCaller:
        return introspect_service_token(token)


_own_token: dict[str, Any] = {}
_own_token_lock = threading.Lock()


def service_token(scope: str = "internal") -> str:
    """This service's client-credentials token for ``scope``, fetched once and reused until near expiry."""
    with _own_token_lock:
        cached = _own_token.get(scope)
        if cached and cached["expires"] - 30 > time.monotonic():
            return cached["token"]
        response = service_client("user").post(
            "/o/token/",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(settings.SERVICE_CLIENT_ID, settings.SERVICE_CLIENT_SECRET),
            idempotent=True,
        )
        if response.status_code != 200:
            raise DependencyUnavailable(
                "user",
                reason=f"no service token (client credentials answered {response.status_code})",
            )
        answer = response.json()
        _own_token[scope] = {
            "token": answer["access_token"],
            "expires": time.monotonic() + int(answer.get("expires_in", 0)),
        }
        return answer["access_token"]


def forget_service_tokens() -> None:
    with _own_token_lock:
        _own_token.clear()


def internal_request(
    service: str, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    """A call to another service's ``/internal/`` endpoint with this service's token; a token the
    other side refuses (expired, rotated) is replaced once."""
    client = service_client(service)
    for attempt in (1, 2):
        authorized = {**(headers or {}), "Authorization": f"Bearer {service_token()}"}
        response = client.request(method, path, headers=authorized, **kwargs)
        if response.status_code != 401 or attempt == 2:
            return response
        forget_service_tokens()
    raise AssertionError("unreachable")  # pragma: no cover
