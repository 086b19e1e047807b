"""Service tokens as signed JWTs: the user service signs each shop service's client-credentials
token with an Ed25519 key, and every service checks the ones it receives itself with the user
service's public keys, so no call to ``/o/introspect/`` is on the path of an internal request
(docs/auth.md, "Service identities").

- The user service holds ``SERVICE_TOKEN_SIGNING_KEY``: one or more random secrets (comma
  separated, the first signs; a key being retired stays listed until the tokens it signed have
  expired). Each secret is the seed of an Ed25519 key (:func:`signing_keys`), so any random string
  of 32 characters or more, as ``make run`` and the deployments generate them, is a key.
- It publishes the public keys at ``GET /o/jwks/`` (a JSON Web Key Set, public: they verify,
  they cannot sign). Every other service fetches the set once per worker process (at worker
  start, shop_common.server) and again only for a key id it does not know, at most once every
  :data:`REFETCH_SECONDS`, so tokens with invented key ids cannot make it ask on every request.
- A token is taken only with the signature of a published key, algorithm EdDSA, type ``at+jwt``,
  this issuer and audience, unexpired, naming one of the six shop services (``client_id``) and
  its scopes. Anything else is refused without a call.
"""

import base64
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shop_common.errors import DependencyUnavailable

ALGORITHM = "EdDSA"
ISSUER = "shop-user-service"
AUDIENCE = "shop-services"
# RFC 9068: a JWT access token, not an ID token or a user's login JWT.
TOKEN_TYPE = "at+jwt"  # noqa: S105 (a type name, not a secret)
JWKS_PATH = "/o/jwks/"
# Seconds between two fetches of the key set for an unknown key id.
REFETCH_SECONDS = 30.0
# Seconds of clock difference between the machines that expiry and issue times forgive.
LEEWAY_SECONDS = 10
# Keeps the keys derived here apart from any other use of the same secret.
_SEED_CONTEXT = b"shop service token signing key\x00"

logger = logging.getLogger("shop.signed_tokens")


class BadToken(Exception):
    """The token is not a valid service token (the reason is for the log, not the caller)."""


@dataclass(frozen=True)
class ServiceClaims:
    client_id: str
    scopes: frozenset[str]
    expires: int


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signing_key(secret: str) -> Ed25519PrivateKey:
    """The Ed25519 key whose seed is derived from ``secret`` (a random string)."""
    if len(secret) < 32:
        raise ValueError("a service token signing key needs 32 characters or more")
    seed = hashlib.sha256(_SEED_CONTEXT + secret.encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def signing_keys(setting: str) -> list[Ed25519PrivateKey]:
    """The keys ``SERVICE_TOKEN_SIGNING_KEY`` names, the signing one first."""
    return [signing_key(secret.strip()) for secret in setting.split(",") if secret.strip()]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw_public(key)).hexdigest()[:16]


def jwks(keys: Iterable[Ed25519PrivateKey]) -> dict[str, Any]:
    """The public half of ``keys`` as a JSON Web Key Set (RFC 8037's OKP keys)."""
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": _b64url(_raw_public(key.public_key())),
                "kid": key_id(key.public_key()),
                "use": "sig",
                "alg": ALGORITHM,
            }
            for key in keys
        ]
    }


def sign(key: Ed25519PrivateKey, *, client_id: str, scopes: Iterable[str], lifetime: int) -> str:
    """A service token for ``client_id``. ``jti`` makes every token unique (django-oauth-toolkit
    stores each one by its checksum, which must not repeat)."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": client_id,
        "client_id": client_id,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    headers = {"kid": key_id(key.public_key()), "typ": TOKEN_TYPE}
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers=headers)


def verify(
    token: str, keys: dict[str, Ed25519PublicKey], *, clients: Iterable[str]
) -> ServiceClaims:
    """The claims of ``token`` when one of ``keys`` (by key id) signed it for one of ``clients``;
    :class:`BadToken` otherwise. A key id not in ``keys`` is :class:`UnknownKey`."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise BadToken(f"unreadable header: {error}") from None
    if header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE:
        raise BadToken("not a service token (algorithm or type)")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise UnknownKey(str(kid)[:40])
    try:
        claims = jwt.decode(
            token,
            keys[kid],
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "client_id", "scope", "jti"]},
        )
    except jwt.PyJWTError as error:
        raise BadToken(str(error)) from None
    client_id, scope = claims["client_id"], claims["scope"]
    if not isinstance(client_id, str) or client_id != claims["sub"] or client_id not in clients:
        raise BadToken("not one of the shop's services")
    if not isinstance(scope, str):
        raise BadToken("scope is not a string")
    return ServiceClaims(
        client_id=client_id, scopes=frozenset(scope.split()), expires=claims["exp"]
    )


class UnknownKey(BadToken):
    """Signed (it says) with a key this service has not seen: the key set may be newer."""


def public_keys_from(jwk_set: Any) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JSON Web Key Set, by key id (any other kind of key is left out)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in (jwk_set or {}).get("keys", []) if isinstance(jwk_set, dict) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        try:
            raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
            key = Ed25519PublicKey.from_public_bytes(raw)
        except (KeyError, TypeError, ValueError):
            continue
        keys[key_id(key)] = key
    return keys


class PublishedKeys:
    """The user service's public keys as this process knows them: fetched on first need, again for
    an unknown key id at most every :data:`REFETCH_SECONDS`."""

    def __init__(self) -> None:
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def get(self, *, refresh: bool = False) -> dict[str, Ed25519PublicKey]:
        if self._fetched_at is not None and not refresh:
            return self._keys
        with self._lock:
            recently = (
                self._fetched_at is not None
                and time.monotonic() - self._fetched_at < REFETCH_SECONDS
            )
            if self._fetched_at is not None and (not refresh or recently):
                return self._keys
            self._keys = self._fetch()
            self._fetched_at = time.monotonic()
            return self._keys

    @staticmethod
    def _fetch() -> dict[str, Ed25519PublicKey]:
        # Imported here: service_client imports the settings-dependent parts of the library.
        from shop_common.service_client import service_client

        response = service_client("user").get(JWKS_PATH, idempotent=True)
        if response.status_code != 200:
            raise DependencyUnavailable("user", reason=f"jwks answered {response.status_code}")
        try:
            keys = public_keys_from(response.json())
        except ValueError:
            keys = {}
        if not keys:
            raise DependencyUnavailable("user", reason="jwks lists no Ed25519 key")
        logger.info("Fetched the user service's %d service token key(s)", len(keys))
        return keys

    def forget(self) -> None:
        with self._lock:
            self._keys, self._fetched_at = {}, None
        _verified.clear()


published_keys = PublishedKeys()


# Tokens this process has verified, until they expire: a service sends the same token for as long
# as it lives, and a dictionary lookup costs far less than a signature check. Only verified tokens
# go in (nobody can fill it with junk), and it is emptied when full.
_verified: dict[str, ServiceClaims] = {}
VERIFIED_MAX = 1024


def verify_published(token: str, *, clients: Iterable[str]) -> ServiceClaims:
    """:func:`verify` with the user service's published keys (fetched again once for a key id
    they do not list: the signing key may have been rotated)."""
    known = _verified.get(token)
    if known is not None and known.expires > time.time() and known.client_id in clients:
        return known
    clients = frozenset(clients)
    try:
        claims = verify(token, published_keys.get(), clients=clients)
    except UnknownKey:
        claims = verify(token, published_keys.get(refresh=True), clients=clients)
    if len(_verified) >= VERIFIED_MAX:
        _verified.clear()
    _verified[token] = claims
    return claims
