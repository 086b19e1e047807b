from rest_framework.request import Request

from accounts.selectors import validate_access_token
from shop_common.auth import AuthenticatedUser, BearerTokenAuthentication, bearer_token


class LocalBearerTokenAuthentication(BearerTokenAuthentication):
    """The user service's own version of the shared class: it validates in-process, not over HTTP,
    and gives ``request.user`` the same :class:`AuthenticatedUser` the other services see."""

    def authenticate(self, request: Request) -> tuple[AuthenticatedUser, str] | None:
        token = bearer_token(request)
        if token is None:
            return None
        validated = validate_access_token(token)
        return AuthenticatedUser.from_validation(validated.as_answer()), token
