from accounts.selectors import validate_access_token
from shop_common.auth import AuthenticatedUser, BearerTokenAuthentication


class LocalBearerTokenAuthentication(BearerTokenAuthentication):
    """The user service's own version of the shared class: it validates in-process, not over HTTP,
    and gives ``request.user`` the same :class:`AuthenticatedUser` the other services see."""

    def caller(self, token: str) -> AuthenticatedUser:
        return AuthenticatedUser.from_validation(validate_access_token(token).as_answer())
