"""JSON Web Tokens of a login session (simplejwt): an access token and a refresh token that share
the session id (``sid``). Signature, expiry and type are checked here; revocation by the session."""

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from shop_common.auth import InvalidToken

SESSION_CLAIM = "sid"


@dataclass(frozen=True)
class TokenPair:
    session_id: str
    access: str
    refresh: str
    refresh_jti: str
    access_expires_at: datetime
    refresh_expires_at: datetime

    @property
    def expires_in(self) -> int:
        return int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


@dataclass(frozen=True)
class Claims:
    user_id: int
    session_id: str
    jti: str
    expires_at: datetime


def issue_pair(*, user_id: int, session_id: str) -> TokenPair:
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = user_id
    refresh[SESSION_CLAIM] = session_id
    access = refresh.access_token
    return TokenPair(
        session_id=session_id,
        access=str(access),
        refresh=str(refresh),
        refresh_jti=refresh[api_settings.JTI_CLAIM],
        access_expires_at=datetime.fromtimestamp(access["exp"], tz=UTC),
        refresh_expires_at=datetime.fromtimestamp(refresh["exp"], tz=UTC),
    )


def _claims(token_class: type[AccessToken] | type[RefreshToken], raw: str) -> Claims:
    try:
        token = token_class(raw)
        return Claims(
            user_id=int(token[api_settings.USER_ID_CLAIM]),
            session_id=str(uuid.UUID(str(token[SESSION_CLAIM]))),
            jti=str(token[api_settings.JTI_CLAIM]),
            expires_at=datetime.fromtimestamp(token["exp"], tz=UTC),
        )
    except (TokenError, KeyError, TypeError, ValueError):
        # simplejwt refuses a bad signature, "alg: none", an expired token and the wrong type.
        raise InvalidToken() from None


def decode_access(raw: str) -> Claims:
    """The claims of a good access token. One whose signature was checked before is remembered
    (its signature, type and claims cannot change; whether its session still stands is asked on
    every validation, accounts.session_state), and only its expiry is compared again: checking
    the signature is a large share of a validation's CPU once the session's state comes from
    Redis."""
    claims = _verified_access(raw)
    if claims.expires_at <= datetime.now(tz=UTC):
        raise InvalidToken()
    return claims


# A few thousand live tokens per worker (about 1 kB each); a refused one is never kept.
@functools.lru_cache(maxsize=4096)
def _verified_access(raw: str) -> Claims:
    return _claims(AccessToken, raw)


def decode_refresh(raw: str) -> Claims:
    return _claims(RefreshToken, raw)
