from accounts.selectors import live_oauth_tokens, validate_access_token
from shop_common.auth import (
    JWT_SHAPE,
    OAUTH_TOKEN_SHAPE,
    AuthenticatedUser,
    BearerTokenAuthentication,
    InvalidToken,
    ServiceCaller,
    ServiceTokenAuthentication,
)


class LocalBearerTokenAuthentication(BearerTokenAuthentication):
    """The user service's own version of the shared class: it validates in-process, not over HTTP,
    and gives ``request.user`` the same :class:`AuthenticatedUser` the other services see."""

    def caller(self, token: str) -> AuthenticatedUser:
        return AuthenticatedUser.from_validation(validate_access_token(token).as_answer())


class LocalServiceTokenAuthentication(ServiceTokenAuthentication):
    """For this service's own ``/internal/`` endpoints: the token looked up where it was issued,
    as introspection would (an active client-credentials token, no user). A signed service token
    is looked up too: here a revoked one is refused at once."""

    def caller(self, token: str) -> ServiceCaller:
        if not (OAUTH_TOKEN_SHAPE.fullmatch(token) or JWT_SHAPE.fullmatch(token)):
            raise InvalidToken("The service token is invalid or expired.")
        found = (
            live_oauth_tokens(token)
            .filter(user__isnull=True, application__isnull=False)
            .values_list("application__client_id", "scope")
            .first()
        )
        if found is None:
            raise InvalidToken("The service token is invalid or expired.")
        client_id, scope = found
        return ServiceCaller(client_id=client_id, scopes=frozenset(scope.split()))
