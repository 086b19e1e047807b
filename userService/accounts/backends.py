"""The one password check of the user service: Django's, behind the throttle."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.throttles import PasswordGuard, TooManyAttempts
from shop_common import metrics
from shop_common.client_address import client_address as address_of


class ThrottledEmailBackend(ModelBackend):
    """Every ``authenticate()`` of this service (API login, HTML login, the admin, the product
    admin's staff sessions) comes here: refused before the password is looked at once the
    (account, address) pair or the address failed too often, slowed down when the account failed
    often from many addresses; a wrong password counts against all three (accounts.throttles).

    :raises TooManyAttempts: over a limit (the API answers 429, the forms say so).
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        client_address: str | None = None,
        **kwargs: Any,
    ) -> Any:
        email = username or kwargs.get("email")
        if not email or password is None:
            return None
        address = client_address or (address_of(request) if request is not None else "unknown")
        guard = PasswordGuard(account=email, address=address)
        try:
            guard.check()
        except TooManyAttempts:
            metrics.LOGINS.labels("throttled").inc()
            raise
        user = super().authenticate(request, username=email, password=password)
        if user is None:
            guard.failed()
        metrics.LOGINS.labels("failed" if user is None else "ok").inc()
        return user
