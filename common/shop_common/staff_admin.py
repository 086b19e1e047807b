"""Staff log in to a service's Django admin with their user-service email and password.

Used by the services whose admin is for the shop's staff (the product service's catalog admin, the
payment service's payments admin); a service turns it on with ``service_settings(staff_admin=
StaffAdmin(...))`` (:class:`shop_common.conf.StaffAdmin`), which sets the backend, the middleware
and the ``STAFF_ADMIN_*`` settings read here, and its ``admin.py`` uses
:class:`StaffAdminLoginForm`. See docs/auth.md ("Staff admins").

There is no second password store: the backend asks the user service to open a staff session
(``POST /internal/staff-sessions/``, this service's token; the password check there is throttled
per account and per the person's own address, which this service sends), lets in STAFF and ADMIN,
and keeps a local admin user without a usable password for Django's sessions and permissions: a
STAFF member joins the group ``STAFF_ADMIN_GROUP`` with the permissions of
``STAFF_ADMIN_PERMISSIONS`` (app label → model → actions), an ADMIN is superuser of this admin.

The admin session follows the user-service session: :class:`StaffSessionMiddleware` asks the user
service about it at least every ``AUTH_CACHE_TTL`` seconds (at once after a change, with a shared
Redis) and ends the admin session when the user was deactivated, logged out or lost STAFF/ADMIN.
Logging out of the admin ends the user-service session.
"""

import contextlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import logout
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from shop_common.auth import session_stamp
from shop_common.client_address import client_address
from shop_common.error_handlers import error_response
from shop_common.errors import DEPENDENCY_UNAVAILABLE, DependencyUnavailable, ServiceError
from shop_common.permissions import ADMIN, STAFF
from shop_common.service_tokens import internal_request

SESSION_KEY = "user_service_session_id"
_STATE_KEY = "staff-session:{session_id}"


class StaffLoginThrottled(ServiceError):
    """The user service refused to check the password: too many failures (429)."""


def staff_permissions() -> list[Permission]:
    """The permissions ``STAFF_ADMIN_PERMISSIONS`` names (app label → model → actions)."""
    wanted = Q(pk__in=[])
    for app_label, models in settings.STAFF_ADMIN_PERMISSIONS.items():
        codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
        wanted |= Q(content_type__app_label=app_label, codename__in=codenames)
    return list(Permission.objects.filter(wanted))


@transaction.atomic
def sync_staff_user(*, email: str, roles: set[str]) -> User:
    user, _ = User.objects.get_or_create(username=email, defaults={"email": email})
    user.email = email
    user.is_active = True
    user.is_staff = True
    user.is_superuser = ADMIN in roles
    user.set_unusable_password()
    user.save()
    group, _ = Group.objects.get_or_create(name=settings.STAFF_ADMIN_GROUP)
    group.permissions.set(staff_permissions())
    user.groups.add(group)
    return user


def _is_staff(roles: set[str]) -> bool:
    return bool(roles & {STAFF, ADMIN})


def end_user_service_session(session_id: str) -> None:
    internal_request("user", "DELETE", f"/internal/sessions/{session_id}/")


class UserServiceBackend(ModelBackend):
    """Checks the password at the user service; permissions and sessions are Django's own."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password or request is None:
            return None
        response = internal_request(
            "user",
            "POST",
            "/internal/staff-sessions/",
            json={
                "email": username,
                "password": password,
                "client_address": client_address(request),
                "user_agent": request.headers.get("User-Agent", "")[:255],
            },
        )
        if response.status_code == 429:
            wait = response.headers.get("Retry-After", "a few")
            raise StaffLoginThrottled(
                f"Too many failed attempts for this account or address. Try again in {wait} seconds."
            )
        if response.status_code in (400, 401):
            return None
        if response.status_code != 201:
            raise DependencyUnavailable(
                "user", reason=f"staff login answered {response.status_code}"
            )
        answer = response.json()
        roles = set(answer["user"]["roles"])
        if not _is_staff(roles):
            end_user_service_session(answer["session_id"])
            return None
        user = sync_staff_user(email=answer["user"]["email"], roles=roles)
        user.user_service_session_id = answer["session_id"]
        return user


@receiver(user_logged_in)
def _remember_user_service_session(sender: Any, request: HttpRequest, user: Any, **kwargs: Any):
    session_id = getattr(user, "user_service_session_id", None)
    if session_id and request is not None:
        request.session[SESSION_KEY] = session_id


@receiver(user_logged_out)
def _end_user_service_session(sender: Any, request: HttpRequest, user: Any, **kwargs: Any):
    session_id = request.session.get(SESSION_KEY) if request is not None else None
    if session_id:
        # If the user service is down the session ends by itself; the admin session is gone.
        with contextlib.suppress(DependencyUnavailable):
            end_user_service_session(session_id)


def staff_session_state(session_id: str) -> dict[str, Any] | None:
    """The user service's word on a staff session (None: it does not exist), cached for
    ``AUTH_CACHE_TTL`` seconds and asked again at once when the session's stamp changed."""
    key = _STATE_KEY.format(session_id=session_id)
    ttl = settings.AUTH_CACHE_TTL
    if ttl > 0:
        cached = cache.get(key)
        if cached is not None and cached[1] == session_stamp(session_id):
            return cached[0]
    stamp = session_stamp(session_id)  # before asking: a change meanwhile makes the entry stale
    response = internal_request("user", "GET", f"/internal/sessions/{session_id}/")
    if response.status_code == 404:
        state = None
    elif response.status_code == 200:
        state = response.json()
    else:
        raise DependencyUnavailable("user", reason=f"session check answered {response.status_code}")
    if ttl > 0:
        cache.set(key, (state, stamp), timeout=ttl)
    return state


def staff_session_holds(request: HttpRequest) -> bool:
    """The admin's user still has a live user-service session and STAFF or ADMIN."""
    session_id = request.session.get(SESSION_KEY)
    if not session_id:
        return False
    state = staff_session_state(session_id)
    if state is None or not state["active"]:
        return False
    roles = set(state["user"]["roles"])
    if not _is_staff(roles) or state["user"]["email"] != request.user.username:
        return False
    if request.user.is_superuser != (ADMIN in roles):
        sync_staff_user(email=request.user.username, roles=roles)
    return True


class StaffSessionMiddleware:
    """Ends an admin session whose user-service session no longer stands (after Django's
    AuthenticationMiddleware; only admin paths, the API does not use sessions)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/admin/") and request.user.is_authenticated:
            try:
                holds = staff_session_holds(request)
            except DependencyUnavailable as exc:
                return error_response(503, DEPENDENCY_UNAVAILABLE, exc.message, exc.details)
            if not holds:
                logout(request)
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return self.get_response(request)


class StaffAdminLoginForm(AdminAuthenticationForm):
    """The admin's login form: the username is the user-service email (``STAFF_ADMIN_LOGIN_LABEL``),
    and a throttled login or an unreachable user service is a message on the page, not a 500."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": "Please enter the correct email and password for a staff account.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = settings.STAFF_ADMIN_LOGIN_LABEL

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except StaffLoginThrottled as exc:
            raise ValidationError(exc.message, code="throttled") from None
        except DependencyUnavailable:
            raise ValidationError(
                "The user service cannot be reached, so nobody can log in right now. Try again in a moment.",
                code="user_service_unavailable",
            ) from None
