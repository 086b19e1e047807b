"""Who is calling: customers and staff with a user token, other services with a service token.
(This service's own token, for calling others, is in :mod:`shop_common.service_tokens`.)

- :class:`BearerTokenAuthentication` — ``Authorization: Bearer <access token>``, validated by the
  user service (``POST /auth/validate/``), the answer cached for ``AUTH_CACHE_TTL`` seconds (never
  past the token's expiry; 0 disables). ``request.user`` becomes an :class:`AuthenticatedUser`.
- :class:`ServiceTokenAuthentication` — an OAuth2 client-credentials token of one of the shop's six
  services: a JWT the user service signed (Ed25519), checked here with its published keys
  (:mod:`shop_common.signed_tokens`), no call per token. Any other client-credentials token (an
  outside application's, which the internal endpoints refuse with 403) is introspected at the user
  service (``/o/introspect/``, authenticated with this service's own ``introspection`` token, so no
  client secret is hashed per call), cached briefly.

A string that cannot be a token of the kind asked for is refused without asking anybody, and a
refused token is remembered for ``REFUSED_TOKEN_CACHE_TTL`` seconds: junk tokens cost the user
service nothing (docs/auth.md, "Service identities").

The user service answers 503 ``dependency_unavailable`` (never 500, never a false 401) when it
cannot be reached. With a shared Redis the user service stamps a session in the cache when it is
revoked or its user's roles change, and a cached validation older than the stamp is asked again at
once; with a local-memory cache the change reaches other services within ``AUTH_CACHE_TTL`` seconds.
"""

import hashlib
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from shop_common import deadlines, signed_tokens
from shop_common.errors import DependencyUnavailable, ServiceError
from shop_common.service_client import service_client
from shop_common.service_tokens import forget_service_tokens, service_token
from shop_common.topology import SERVICES

INVALID_TOKEN = "invalid_token"  # noqa: S105 (an error code, not a secret)
REALM = 'Bearer realm="shop"'
_VALIDATION_KEY = "auth:validation:{digest}"
_SESSION_STAMP_KEY = "auth:session-stamp:{session_id}"
_INTROSPECTION_KEY = "auth:introspection:{digest}"
_REFUSED_KEY = "auth:refused:{kind}:{digest}"

# What the user service issues: its JWTs (header.payload.signature, base64url) and
# django-oauth-toolkit's access tokens (oauthlib's generator: 30 letters and digits; a test of the
# user service checks that the tokens it mints still have this shape).
JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]{4,2048}\.[A-Za-z0-9_-]{4,2048}\.[A-Za-z0-9_-]{4,2048}")
OAUTH_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9]{30}")

# The shop's own OAuth2 clients, one per service: the only holders of the ``internal`` scope.
SERVICE_CLIENTS: dict[str, str] = {service.client_id: service.name for service in SERVICES}


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
    # The OAuth2 scopes of a token a person gave an application (``read``, ``write``); None for
    # the shop's own login tokens, which carry every right of their user.
    scopes: frozenset[str] | None = None

    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def pk(self) -> int:
        return self.id

    def has_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

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
            scopes=None if answer.get("scopes") is None else frozenset(answer["scopes"]),
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

    @property
    def service(self) -> str:
        """The shop service this token belongs to, or "" for any other application."""
        return SERVICE_CLIENTS.get(self.client_id, "")


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


def session_stamp_key(session_id: str) -> str:
    return _SESSION_STAMP_KEY.format(session_id=session_id)


def session_stamp(session_id: str) -> str | None:
    """The session's current stamp: a new one each time the session is revoked or its user's roles
    change. An answer cached under an older stamp is stale."""
    return cache.get(session_stamp_key(session_id)) if session_id else None


def mark_sessions_changed(session_ids: list[str], *, for_seconds: int) -> None:
    """Called by the user service when sessions end or their roles change: every cached answer
    about them (in this cache: shared by all services with Redis) is asked again."""
    if session_ids:
        stamp = uuid.uuid4().hex
        cache.set_many({session_stamp_key(sid): stamp for sid in session_ids}, timeout=for_seconds)


def _refused(token: str, *, kind: str) -> bool:
    """``kind``: "user" or "service"; a service token is refused as a user token and the reverse."""
    return cache.get(_REFUSED_KEY.format(kind=kind, digest=_digest(token))) is not None


def _remember_refusal(token: str, *, kind: str) -> None:
    if settings.REFUSED_TOKEN_CACHE_TTL > 0:
        key = _REFUSED_KEY.format(kind=kind, digest=_digest(token))
        cache.set(key, 1, settings.REFUSED_TOKEN_CACHE_TTL)


def looks_like_user_token(token: str) -> bool:
    return bool(JWT_SHAPE.fullmatch(token) or OAUTH_TOKEN_SHAPE.fullmatch(token))


def validate_with_user_service(token: str) -> AuthenticatedUser:
    """The user service's answer for ``token``, from the short cache when it has one."""
    if not looks_like_user_token(token):
        raise InvalidToken()
    ttl = settings.AUTH_CACHE_TTL
    key = _VALIDATION_KEY.format(digest=_digest(token))
    named_session = _session_named_by(token)
    if ttl > 0:
        # The cached answer and its session's stamp in one round trip (one MGET with Redis): the
        # session is the one the token names, which is the answer's own for a login JWT.
        stamp_key = session_stamp_key(named_session) if named_session else None
        found = cache.get_many([key, stamp_key] if stamp_key else [key])
        cached = found.get(key)
        if cached is not None:
            answer, stamp = cached
            user = AuthenticatedUser.from_validation(answer)
            current = (
                found.get(stamp_key)
                if user.session_id == named_session
                else session_stamp(user.session_id)
            )
            if user.expires_at > timezone.now() and current == stamp:
                return user
            cache.delete(key)
    if _refused(token, kind="user"):
        raise InvalidToken()
    # The stamp is read before asking: a change that lands while the user service answers makes
    # the cached answer stale on its first use, never fresh.
    stamp = session_stamp(named_session)
    response = service_client("user").post(
        "/auth/validate/", json={"token": token}, idempotent=True
    )
    if response.status_code in (400, 401):
        _remember_refusal(token, kind="user")
        raise InvalidToken()
    if response.status_code != 200:
        raise DependencyUnavailable("user", reason=f"validate answered {response.status_code}")
    answer = response.json()
    user = AuthenticatedUser.from_validation(answer)
    lifetime = int((user.expires_at - timezone.now()).total_seconds())
    if user.session_id != named_session:  # not a login JWT: no stamp was read before
        stamp = session_stamp(user.session_id)
    if ttl > 0 and lifetime > 0:
        cache.set(key, (answer, stamp), timeout=min(ttl, lifetime))
    return user


def _session_named_by(token: str) -> str:
    """The session id (``sid``) a JWT names, read without checking it: only to find the session's
    stamp before the user service checks the token. "" for anything else (OAuth2 tokens have no
    login session, and are not cached under one)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return ""
    return str(claims.get("sid", "")) if isinstance(claims, dict) else ""


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
    """A person's access token, checked by the user service (cached briefly). A shop service
    calling on the person's behalf proves itself with its signed service token in
    ``X-Shop-Service-Token``; its ``X-Request-Deadline`` then counts."""

    def caller(self, token: str) -> AuthenticatedUser:
        return validate_with_user_service(token)

    def authenticate(self, request: Request) -> tuple[Any, str] | None:
        authenticated = super().authenticate(request)
        if forwarded_by_shop_service(request):
            deadlines.honour_claimed_deadline(request)
        return authenticated


def forwarded_by_shop_service(request: Request) -> bool:
    """True when ``X-Shop-Service-Token`` holds a valid signed token of one of the shop's
    services. Checked here with the published keys, never introspected; anything else (missing,
    forged, expired, the keys not to be had) is False: the header only decides whose deadline
    counts, so it never refuses a request."""
    token = request.headers.get(deadlines.SERVICE_TOKEN_HEADER, "")
    if not token or not JWT_SHAPE.fullmatch(token):
        return False
    try:
        signed_tokens.verify_published(token, clients=SERVICE_CLIENTS)
    except (signed_tokens.BadToken, DependencyUnavailable):
        return False
    return True


def verify_service_token(token: str) -> ServiceCaller:
    """The caller a service token names: a signed one checked here, any other introspected."""
    if JWT_SHAPE.fullmatch(token):
        try:
            claims = signed_tokens.verify_published(token, clients=SERVICE_CLIENTS)
        except signed_tokens.BadToken:
            raise InvalidToken("The service token is invalid or expired.") from None
        return ServiceCaller(client_id=claims.client_id, scopes=claims.scopes)
    return introspect_service_token(token)


def introspect_service_token(token: str) -> ServiceCaller:
    """An active client-credentials token and its scopes, per the user service's introspection.

    This service authenticates to ``/o/introspect/`` with its own ``introspection`` token (a
    lookup by checksum there), not with its client secret, which would be checked on every call."""
    if not OAUTH_TOKEN_SHAPE.fullmatch(token) or _refused(token, kind="service"):
        raise InvalidToken("The service token is invalid or expired.")
    key = _INTROSPECTION_KEY.format(digest=_digest(token))
    cached = cache.get(key)
    if cached is not None:
        return ServiceCaller(client_id=cached["client_id"], scopes=frozenset(cached["scopes"]))
    response = _introspect(token)
    answer = response.json()
    # A user's token (one with a username) is never a service credential.
    if not answer.get("active") or answer.get("username"):
        _remember_refusal(token, kind="service")
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


def _introspect(token: str) -> Any:
    users = service_client("user")
    for attempt in (1, 2):
        response = users.post(
            "/o/introspect/",
            data={"token": token},
            headers={"Authorization": f"Bearer {service_token('introspection')}"},
            idempotent=True,
        )
        if response.status_code == 200:
            return response
        if response.status_code not in (401, 403) or attempt == 2:
            break
        forget_service_tokens()  # this service's own token expired or was revoked: get a new one
    raise DependencyUnavailable("user", reason=f"introspection answered {response.status_code}")


class ServiceTokenAuthentication(_BearerAuthentication):
    """For ``/internal/`` endpoints: a service's OAuth2 token, its signature checked here (any other
    application's token introspected). Once the
    caller is known to be one of the shop's services, the ``X-Request-Deadline`` it sent counts
    (shop_common.deadlines); nobody else's does."""

    def caller(self, token: str) -> ServiceCaller:
        return verify_service_token(token)

    def authenticate(self, request: Request) -> tuple[Any, str] | None:
        authenticated = super().authenticate(request)
        if authenticated is not None and authenticated[0].service:
            deadlines.honour_claimed_deadline(request)
        return authenticated
