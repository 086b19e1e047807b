"""Who may do what: roles from the user service, ownership as 404, and service-only endpoints."""

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from shop_common.auth import AuthenticatedUser, ServiceCaller
from shop_common.errors import ResourceNotFoundException

ADMIN = "ADMIN"
STAFF = "STAFF"
CUSTOMER = "CUSTOMER"

INTERNAL_SCOPE = "internal"


class IsAuthenticatedUser(BasePermission):
    """A person with a valid user token (any role); a service token is not enough."""

    message = "A valid user token is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, AuthenticatedUser)


def HasRole(*roles: str) -> type[BasePermission]:
    """``permission_classes = [HasRole(STAFF, ADMIN)]``: the caller has at least one of ``roles``."""

    class _HasRole(IsAuthenticatedUser):
        message = f"This needs the role {' or '.join(roles)}."

        def has_permission(self, request: Request, view: Any) -> bool:
            return super().has_permission(request, view) and request.user.has_role(*roles)

    _HasRole.__name__ = f"HasRole({', '.join(roles)})"
    return _HasRole


class IsInternalService(BasePermission):
    """Only another service with a client-credentials token of scope ``internal``."""

    message = "This endpoint is for the shop's services only."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, ServiceCaller) and request.user.has_scope(INTERNAL_SCOPE)


def get_owned_or_404(
    queryset: QuerySet,
    *,
    user: AuthenticatedUser,
    resource: str,
    owner: Callable[[Model], int] = lambda obj: obj.user_id,
    staff_roles: tuple[str, ...] = (STAFF, ADMIN),
    **lookup: Any,
) -> Model:
    """The object for ``lookup`` if ``user`` owns it (or has a staff role); otherwise 404, as if it
    did not exist, so that nobody learns which ids belong to somebody else."""
    obj = queryset.filter(**lookup).first()
    if obj is None or not (owner(obj) == user.id or user.has_role(*staff_roles)):
        raise ResourceNotFoundException(resource, next(iter(lookup.values()), None))
    return obj


def is_staff(user: object) -> bool:
    """A person with the STAFF or ADMIN role (for views that show staff more than the public)."""
    return isinstance(user, AuthenticatedUser) and user.has_role(STAFF, ADMIN)
