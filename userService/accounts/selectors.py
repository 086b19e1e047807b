"""Reads of the user service. Token validation is here: it is on every request of every service."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from accounts.models import LoginSession, User
from accounts.session_state import session_state
from accounts.tokens import decode_access
from shop_common.auth import InvalidToken
from shop_common.errors import ResourceNotFoundException
from shop_common.filters import apply_filters


@dataclass(frozen=True)
class ValidatedToken:
    user_id: int
    email: str
    username: str
    phone_number: str
    roles: list[str]
    expires_at: datetime
    session_id: str
    # An OAuth2 token's scopes; None for the shop's login tokens (every right of their user).
    scopes: list[str] | None = None

    def as_answer(self) -> dict:
        """The flat answer of POST /auth/validate/ (the first release's field names), in the shape
        of ``apis.ValidateOutput``, built by hand: the serializer costs many times this on the
        request every service makes to check a token it has not cached (docs/development.md,
        "Figures behind design choices").
        ``test_the_hand_built_validation_is_what_validate_output_gives`` keeps the two the same."""
        return {
            "user_id": self.user_id,
            "email": self.email,
            "username": self.username,
            "phone_number": self.phone_number,
            "roles": self.roles,
            "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
            "session_id": self.session_id,
            "scopes": self.scopes,
        }


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def validate_access_token(token: str) -> ValidatedToken:
    """The user behind an unexpired, unrevoked access token — our JWT, or an OAuth2 token that a
    person obtained through the authorization-code flow. A JWT's session is read from the shared
    cache when it holds it (no SQL), else by one indexed query (accounts.session_state); an OAuth2
    token always by one indexed query (first-party applications only, and few)."""
    if not token:
        raise InvalidToken()
    if _looks_like_jwt(token):
        return _validate_jwt(token)
    return _validate_oauth_token(token)


def _validate_jwt(token: str) -> ValidatedToken:
    claims = decode_access(token)
    state = session_state(claims.session_id)
    if state is None or not state.live or state.user_id != claims.user_id:
        raise InvalidToken()
    return ValidatedToken(
        user_id=claims.user_id,
        email=state.email,
        username=state.username,
        phone_number=state.phone_number,
        roles=list(state.roles),
        expires_at=claims.expires_at,
        session_id=claims.session_id,
    )


def live_oauth_tokens(token: str) -> QuerySet:
    """django-oauth-toolkit's unexpired access tokens with this value (kept as a checksum only)."""
    return get_access_token_model().objects.filter(
        token_checksum=hashlib.sha256(token.encode()).hexdigest(), expires__gt=timezone.now()
    )


def _validate_oauth_token(token: str) -> ValidatedToken:
    rows = list(
        live_oauth_tokens(token)
        .filter(
            user__isnull=False,
            user__is_active=True,
            # Only first-party applications act for a person (accounts.oauth).
            application__client_id__in=settings.OAUTH_FIRST_PARTY_CLIENTS,
        )
        .values_list(
            "id",
            "expires",
            "scope",
            "user_id",
            "user__email",
            "user__username",
            "user__phone_number",
            "user__roles__name",
        )
    )
    if not rows:
        raise InvalidToken()
    token_id, expires, scope, user_id, email, username, phone_number, _ = rows[0]
    return ValidatedToken(
        user_id=user_id,
        email=email,
        username=username,
        phone_number=phone_number,
        roles=sorted({row[7] for row in rows if row[7]}),
        expires_at=expires,
        session_id=f"oauth-{token_id}",
        scopes=sorted(scope.split()),
    )


def users_with_roles() -> QuerySet[User]:
    return User.objects.prefetch_related("roles").order_by("id")


class UserFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(field_name="email", lookup_expr="icontains")
    role = django_filters.CharFilter(method="filter_role")
    active = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_active"
    )

    class Meta:
        model = User
        fields = ["email", "role", "active"]

    def filter_role(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(roles__name=value.strip().upper()).distinct()

    def filter_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_active=value == "true")


def user_list(*, filters: QueryDict | dict) -> QuerySet[User]:
    return apply_filters(UserFilter, filters, users_with_roles())


def visible_user(*, user_id: int, caller_id: int, admin: bool) -> User:
    """The user with this id, if the caller is that user or an ADMIN; else a 404 (not a 403).

    :raises ResourceNotFoundException: (404 ``user_not_found``)."""
    user = None
    if user_id == caller_id or admin:
        user = users_with_roles().filter(pk=user_id).first()
    if user is None:
        raise ResourceNotFoundException("user", user_id)
    return user


@dataclass(frozen=True)
class StaffSessionState:
    session_id: str
    active: bool
    user: User


def staff_session_state(*, session_id: str) -> StaffSessionState:
    """Whether a login session still stands (not revoked, not expired, its user active), and its
    user with their current roles: what the product admin re-checks.

    :raises ResourceNotFoundException: no such session (404 ``session_not_found``)."""
    session = LoginSession.objects.select_related("user").filter(pk=session_id).first()
    if session is None:
        raise ResourceNotFoundException("session", session_id)
    return StaffSessionState(
        session_id=str(session.pk),
        active=session.is_active and session.user.is_active,
        user=users_with_roles().get(pk=session.user_id),
    )
