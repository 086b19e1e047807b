"""Every write of the user service: accounts, roles, login sessions and their tokens."""

import ipaddress
import uuid
from collections.abc import Iterable

from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.models import AbstractApplication, get_application_model

from accounts.exceptions import EmailTaken, InvalidCredentials, RoleExists, UnknownRoles
from accounts.models import LoginSession, Role, User, normalize_email
from accounts.session_state import (
    announce_session_change,
    announce_user_change,
    remember_session,
)
from accounts.tokens import TokenPair, decode_access, decode_refresh, issue_pair
from shop_common.auth import InvalidToken
from shop_common.topology import short_service_secret

PROFILE_FIELDS = ("username", "first_name", "last_name", "phone_number")


def check_password_strength(*, password: str, user: User) -> None:
    """:raises ValidationError: naming ``password``, with every validator's message."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from None


def _unsaved_user(*, email: str, username: str = "", **fields: object) -> User:
    return User(email=email, username=username or email.split("@", 1)[0], **fields)


@transaction.atomic
def create_user(
    *,
    email: str,
    password: str | None,
    roles: Iterable[str] = (Role.CUSTOMER,),
    username: str = "",
    first_name: str = "",
    last_name: str = "",
    phone_number: str = "",
    is_active: bool = True,
) -> User:
    """The one way an account is made (the API, signup, the demo data, ``createsuperuser``, the
    test factories): with a password that passes Django's validators, or none at all (an account
    that cannot log in with a password); all or nothing (an unknown role rolls it back).

    :raises ValidationError: the password is too weak (``password``).
    :raises EmailTaken: another account has this email.
    :raises UnknownRoles: a role that does not exist.
    """
    email = normalize_email(email)
    user = _unsaved_user(
        email=email,
        username=username,
        first_name=first_name,
        last_name=last_name,
        phone_number=phone_number,
        is_active=is_active,
    )
    if password:
        check_password_strength(password=password, user=user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise EmailTaken(details={"email": email}) from None
    set_roles(user=user, role_names=list(roles))
    return user


def signup(*, email: str, password: str, **fields: str) -> None:
    """A new customer; whatever role the client asks for, they start as CUSTOMER.

    The caller learns nothing about whether the email had an account already: the answer is the
    same, and so is the work (a password hash either way). The owner of an existing account is
    told by email instead (docs/auth.md, "Signup")."""
    email = normalize_email(email)
    # Checked before the email is looked up, against the same attributes as create_user's check,
    # so that a weak password is a 400 whether or not the email has an account.
    check_password_strength(password=password, user=_unsaved_user(email=email, **fields))
    existing = User.objects.filter(email=email).first()
    if existing is None:
        try:
            create_user(email=email, password=password, roles=[Role.CUSTOMER], **fields)
            return
        except EmailTaken:  # signed up a moment ago by a concurrent request
            existing = User.objects.filter(email=email).first()
    make_password(password)  # the time a new account's hash would have taken
    if existing is not None:
        notify_signup_attempt(user=existing)


def notify_signup_attempt(*, user: User) -> None:
    send_mail(
        subject="Somebody tried to sign up with your email",
        message=(
            "An attempt was made to open a new shop account with this email address, which "
            "already has one. Nothing changed. If it was you, log in with your password; if "
            "not, you can ignore this message."
        ),
        from_email=None,
        recipient_list=[user.email],
        fail_silently=True,
    )


def resolve_roles(*, role_ids: Iterable[int] = (), role_names: Iterable[str] = ()) -> list[Role]:
    """The roles named by id and by name; any that does not exist is a 400, never dropped."""
    role_ids, role_names = set(role_ids), {name.strip().upper() for name in role_names}
    found = list(Role.objects.filter(id__in=role_ids)) + list(
        Role.objects.filter(name__in=role_names)
    )
    missing_ids = sorted(role_ids - {role.id for role in found})
    missing_names = sorted(role_names - {role.name for role in found})
    if missing_ids or missing_names:
        raise UnknownRoles(
            details={"unknown_role_ids": missing_ids, "unknown_roles": missing_names}
        )
    return list({role.id: role for role in found}.values())


@transaction.atomic
def set_roles(*, user: User, role_names: Iterable[str] = (), role_ids: Iterable[int] = ()) -> User:
    """Replaces the user's roles. ADMIN also opens this service's Django admin. Every cached
    answer about the user's sessions is read again (at once with a shared Redis)."""
    roles = resolve_roles(role_ids=role_ids, role_names=role_names)
    before = set(user.roles.values_list("name", flat=True)) if user.pk else set()
    user.roles.set(roles)
    is_admin = any(role.name == Role.ADMIN for role in roles)
    if user.is_staff != is_admin or user.is_superuser != is_admin:
        user.is_staff = user.is_superuser = is_admin
        user.save(update_fields=["is_staff", "is_superuser", "updated_at"])
    if before and before != {role.name for role in roles}:
        announce_user_change(user.id)
    return user


def create_role(*, name: str, description: str = "") -> Role:
    name = name.strip().upper()
    try:
        with transaction.atomic():
            return Role.objects.create(name=name, description=description)
    except IntegrityError:
        raise RoleExists(details={"name": name}) from None


# What a validation answers about the user (accounts.session_state): a change is announced.
VALIDATED_FIELDS = ("email", "username", "phone_number", "is_active")


@transaction.atomic
def update_user(*, user: User, by_admin: bool, **changes: object) -> User:
    """Profile fields for everyone; email and the active flag only for an ADMIN."""
    allowed = set(PROFILE_FIELDS) | ({"email", "is_active"} if by_admin else set())
    refused = sorted(set(changes) - allowed)
    if refused:
        raise ValidationError({name: ["You may not change this field."] for name in refused})
    if "email" in changes:
        changes["email"] = normalize_email(str(changes["email"]))
        if User.objects.exclude(pk=user.pk).filter(email=changes["email"]).exists():
            raise EmailTaken(details={"email": changes["email"]})
    validated_before = [getattr(user, name) for name in VALIDATED_FIELDS]
    for name, value in changes.items():
        setattr(user, name, value)
    user.save()
    if changes.get("is_active") is False:
        revoke_sessions(user_id=user.id, reason="deactivated")
    elif validated_before != [getattr(user, name) for name in VALIDATED_FIELDS]:
        announce_user_change(user.id)
    return user


@transaction.atomic
def deactivate_user(*, user: User) -> None:
    """DELETE /users/{id}/: the account stays (orders point at it) but can no longer be used."""
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
    revoke_sessions(user_id=user.id, reason="deactivated")


def _ip_or_none(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def _start_session(*, user: User, ip_address: str | None, user_agent: str) -> TokenPair:
    session_id = uuid.uuid4()
    pair = issue_pair(user_id=user.id, session_id=str(session_id))
    LoginSession.objects.create(
        id=session_id,
        user=user,
        refresh_jti=pair.refresh_jti,
        expires_at=pair.refresh_expires_at,
        ip_address=_ip_or_none(ip_address),
        user_agent=user_agent[:255],
    )
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    remember_session(str(session_id))
    return pair


def login(
    *, email: str, password: str, ip_address: str | None, user_agent: str
) -> tuple[User, TokenPair]:
    """A new login session. The password check goes through the throttle (accounts.backends);
    Django's backend runs the password hasher for unknown emails too, so timing tells nothing,
    and it refuses inactive users; every refusal is the same 401.

    :raises TooManyAttempts: the account or the address failed too often (429)."""
    user = authenticate(
        email=normalize_email(email), password=password, client_address=ip_address or "unknown"
    )
    if user is None:
        raise InvalidCredentials()
    return user, _start_session(user=user, ip_address=ip_address, user_agent=user_agent)


def refresh_session(*, refresh: str) -> TokenPair:
    """Rotation: a new pair for the current refresh token; an older one of the family revokes it."""
    claims = decode_refresh(refresh)
    with transaction.atomic():
        session = (
            LoginSession.objects.select_for_update()
            .select_related("user")
            .filter(pk=claims.session_id, user_id=claims.user_id)
            .first()
        )
        if session is None or not session.is_active or not session.user.is_active:
            raise InvalidToken()
        reused = session.refresh_jti != claims.jti
        if not reused:
            pair = issue_pair(user_id=session.user_id, session_id=str(session.id))
            session.refresh_jti = pair.refresh_jti
            session.expires_at = pair.refresh_expires_at
            session.last_refreshed_at = timezone.now()
            session.save(update_fields=["refresh_jti", "expires_at", "last_refreshed_at"])
            remember_session(str(session.id))
            return pair
    # Outside the transaction, so that the revocation is kept although we answer with an error.
    revoke_sessions(session_ids=[claims.session_id], reason="refresh_token_reused")
    raise InvalidToken(
        "This refresh token was already used; the session is revoked. Log in again.",
        details={"reason": "refresh_token_reused"},
    )


def logout(*, access: str | None, refresh: str | None) -> None:
    """Ends the session of the access token and/or the refresh token given. Idempotent."""
    session_ids = set()
    for raw, decode in ((access, decode_access), (refresh, decode_refresh)):
        if raw:
            try:
                session_ids.add(decode(raw).session_id)
            except InvalidToken:
                continue
    if not session_ids:
        raise InvalidToken("Send a valid access token (Authorization: Bearer) or refresh token.")
    revoke_sessions(session_ids=sorted(session_ids), reason="logout")


def revoke_sessions(
    *, reason: str, session_ids: Iterable[str] | None = None, user_id: int | None = None
) -> int:
    sessions = LoginSession.objects.filter(revoked_at__isnull=True)
    if session_ids is not None:
        sessions = sessions.filter(pk__in=list(session_ids))
    if user_id is not None:
        sessions = sessions.filter(user_id=user_id)
    revoked = [str(pk) for pk in sessions.values_list("pk", flat=True)]
    count = LoginSession.objects.filter(pk__in=revoked).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
    announce_session_change(revoked)
    return count


@transaction.atomic
def delete_users(*, user_ids: Iterable[int]) -> None:
    """The Django admin's delete (the API deactivates instead: orders point at users). Their
    sessions go with them, and so do the sessions' cached states."""
    user_ids = list(user_ids)
    announce_session_change(
        LoginSession.objects.filter(user_id__in=user_ids).values_list("pk", flat=True)
    )
    User.objects.filter(pk__in=user_ids).delete()


@transaction.atomic
def delete_sessions(*, session_ids: Iterable[str]) -> None:
    """The Django admin's delete of session records (revoking keeps the record, and is what the
    admin's "Revoke" action does)."""
    session_ids = [str(session_id) for session_id in session_ids]
    announce_session_change(session_ids)
    LoginSession.objects.filter(pk__in=session_ids).delete()


def roles_changed(*, role_ids: Iterable[int]) -> None:
    """Roles renamed (the Django admin): every live session of a user who has one of them answers
    with the new names from its next validation on."""
    live = LoginSession.objects.filter(
        user__roles__in=list(role_ids), revoked_at__isnull=True
    ).distinct()
    announce_session_change(live.values_list("pk", flat=True))


@transaction.atomic
def delete_roles(*, role_ids: Iterable[int]) -> None:
    """The Django admin's delete: the roles are taken from every user who had them."""
    role_ids = list(role_ids)
    roles_changed(role_ids=role_ids)
    Role.objects.filter(pk__in=role_ids).delete()


def register_service_client(*, name: str, client_id: str, secret: str) -> AbstractApplication:
    """Creates or re-keys the OAuth2 client of a shop service: confidential, client credentials,
    and so allowed the ``internal`` scope (accounts.oauth.ShopScopes).

    :raises ValueError: the secret is shorter than 256 bits (it is never locked, so it must not be
        guessable)."""
    if problem := short_service_secret(client_id, secret):
        raise ValueError(problem)
    Application = get_application_model()
    application = Application.objects.filter(client_id=client_id).first() or Application(
        client_id=client_id,
        name=f"{name} service",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        algorithm="",
    )
    application.client_secret = secret  # hashed on save
    application.save()
    return application
