"""Who may do what: roles from the user service, and service-only endpoints."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from shop_common.auth import AuthenticatedUser, ServiceCaller
from shop_common.roles import ADMIN, STAFF

INTERNAL_SCOPE = "internal"
READ_SCOPE = "read"
WRITE_SCOPE = "write"


class IsAuthenticatedUser(BasePermission):
    """A person with a valid user token (any role); a service token is not enough. A token the
    person gave an application (OAuth2) also needs the scope for the method: ``read`` for GET,
    HEAD and OPTIONS, ``write`` for everything else."""

    message = "A valid user token is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not isinstance(user, AuthenticatedUser):
            return False
        needed = READ_SCOPE if request.method in SAFE_METHODS else WRITE_SCOPE
        if not user.has_scope(needed):
            self.message = f"This token was not granted the scope '{needed}'."
            return False
        return True


def HasRole(*roles: str) -> type[BasePermission]:
    """``permission_classes = [HasRole(STAFF, ADMIN)]``: the caller has at least one of ``roles``."""

    class _HasRole(IsAuthenticatedUser):
        message = f"This needs the role {' or '.join(roles)}."

        def has_permission(self, request: Request, view: Any) -> bool:
            return super().has_permission(request, view) and request.user.has_role(*roles)

    _HasRole.__name__ = f"HasRole({', '.join(roles)})"
    return _HasRole


class IsInternalService(BasePermission):
    """Only the shop services the view names in ``callers``, with a token of scope ``internal``;
    any other application's token, or another shop service's, is a 403."""

    message = "This endpoint is for the shop's services only."

    def has_permission(self, request: Request, view: Any) -> bool:
        caller = request.user
        if not isinstance(caller, ServiceCaller):
            return False
        callers: tuple[str, ...] = view.callers
        if caller.has_scope(INTERNAL_SCOPE) and caller.service in callers:
            return True
        self.message = (
            f"This endpoint takes calls from the {' and '.join(callers)} service only."
            if len(callers) <= 2
            else f"This endpoint takes calls from the {', '.join(callers)} services only."
        )
        return False


def is_staff(user: object) -> bool:
    """A person with the STAFF or ADMIN role (for views that show staff more than the public)."""
    return isinstance(user, AuthenticatedUser) and user.has_role(STAFF, ADMIN)
