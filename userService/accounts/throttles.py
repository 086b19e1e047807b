"""Login and signup throttles. Counts live in the cache: per process with the local-memory default
(so each gunicorn worker counts on its own), shared by all workers with REDIS_URL."""

import hashlib

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import normalize_email


class LoginIpThrottle(SimpleRateThrottle):
    scope = "login_ip"

    def get_cache_key(self, request: Request, view: object) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginEmailThrottle(SimpleRateThrottle):
    """Guessing one account's password from many addresses is throttled too."""

    scope = "login_email"

    def get_cache_key(self, request: Request, view: object) -> str | None:
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email:
            return None
        ident = hashlib.sha256(normalize_email(email).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SignupIpThrottle(LoginIpThrottle):
    scope = "signup_ip"
