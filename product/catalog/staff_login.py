"""Catalog staff log in to this service's Django admin with their user-service email and password.

There is no second password store: the backend asks the user service (POST /auth/login/), lets in
STAFF and ADMIN, and keeps a local admin user without a usable password for Django's sessions and
permissions. A CUSTOMER gets the admin's usual "correct email and password for a staff account".
"""

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from shop_common.errors import DependencyUnavailable
from shop_common.permissions import ADMIN, STAFF
from shop_common.service_client import service_client

CATALOG_STAFF_GROUP = "Catalog staff"
CATALOG_PERMISSIONS = {
    "product": ("add", "change", "delete", "view"),
    "category": ("add", "change", "delete", "view"),
    "reservation": ("view",),
    "reservationline": ("view",),
}


@transaction.atomic
def sync_staff_user(*, email: str, roles: set[str]) -> User:
    user, _ = User.objects.get_or_create(username=email, defaults={"email": email})
    user.email = email
    user.is_active = True
    user.is_staff = True
    user.is_superuser = ADMIN in roles
    user.set_unusable_password()
    user.save()
    group, _ = Group.objects.get_or_create(name=CATALOG_STAFF_GROUP)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="catalog",
            codename__in=[
                f"{action}_{model}"
                for model, actions in CATALOG_PERMISSIONS.items()
                for action in actions
            ],
        )
    )
    user.groups.add(group)
    return user


class UserServiceBackend(ModelBackend):
    """Checks the password at the user service; permissions and sessions are Django's own."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password:
            return None
        users = service_client("user")
        response = users.post("/auth/login/", json={"email": username, "password": password})
        if response.status_code >= 500:
            raise DependencyUnavailable("user", reason=f"login answered {response.status_code}")
        if response.status_code != 200:
            return None
        answer = response.json()
        # The admin keeps its own session; the user-service session opened to check is closed again.
        users.post("/auth/logout/", headers={"Authorization": f"Bearer {answer['access']}"})
        roles = set(answer["user"]["roles"])
        if not roles & {STAFF, ADMIN}:
            return None
        return sync_staff_user(email=answer["user"]["email"], roles=roles)


class CatalogAdminLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": "Please enter the correct email and password for a staff account.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except DependencyUnavailable:
            raise ValidationError(
                "The user service cannot be reached, so nobody can log in right now. Try again in a moment.",
                code="user_service_unavailable",
            ) from None
