"""Reads of the user service. Token validation is here: it is on every request of every service."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from accounts.models import LoginSession, User
from accounts.tokens import decode_access
from shop_common.auth import InvalidToken


@dataclass(frozen=True)
class ValidatedToken:
    user_id: int
    email: str
    username: str
    phone_number: str
    roles: list[str]
    expires_at: datetime
    session_id: str

    def as_answer(self) -> dict:
        """The flat answer of POST /auth/validate/ (the first release's field names)."""
        return {
            "user_id": self.user_id,
            "email": self.email,
            "username": self.username,
            "phone_number": self.phone_number,
            "roles": self.roles,
            "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
            "session_id": self.session_id,
        }


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def validate_access_token(token: str) -> ValidatedToken:
    """The user behind an unexpired, unrevoked access token — our JWT, or an OAuth2 token that a
    person obtained through the authorization-code flow. One indexed query either way."""
    if not token:
        raise InvalidToken()
    if _looks_like_jwt(token):
        return _validate_jwt(token)
    return _validate_oauth_token(token)


def _validate_jwt(token: str) -> ValidatedToken:
    claims = decode_access(token)
    rows = list(
        LoginSession.objects.filter(
            pk=claims.session_id,
            user_id=claims.user_id,
            revoked_at__isnull=True,
            user__is_active=True,
        ).values_list("user__email", "user__username", "user__phone_number", "user__roles__name")
    )
    if not rows:
        raise InvalidToken()
    email, username, phone_number, _ = rows[0]
    return ValidatedToken(
        user_id=claims.user_id,
        email=email,
        username=username,
        phone_number=phone_number,
        roles=sorted({row[3] for row in rows if row[3]}),
        expires_at=claims.expires_at,
        session_id=claims.session_id,
    )


def _validate_oauth_token(token: str) -> ValidatedToken:
    rows = list(
        get_access_token_model()
        .objects.filter(
            token_checksum=hashlib.sha256(token.encode()).hexdigest(),
            expires__gt=timezone.now(),
            user__isnull=False,
            user__is_active=True,
        )
        .values_list(
            "id",
            "expires",
            "user_id",
            "user__email",
            "user__username",
            "user__phone_number",
            "user__roles__name",
        )
    )
    if not rows:
        raise InvalidToken()
    token_id, expires, user_id, email, username, phone_number, _ = rows[0]
    return ValidatedToken(
        user_id=user_id,
        email=email,
        username=username,
        phone_number=phone_number,
        roles=sorted({row[6] for row in rows if row[6]}),
        expires_at=expires,
        session_id=f"oauth-{token_id}",
    )


def users_with_roles() -> QuerySet[User]:
    return User.objects.prefetch_related("roles").order_by("id")
