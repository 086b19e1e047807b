"""Throttles of everything that checks a password or opens an account, with one counter shared by
every server worker: Redis when ``REDIS_URL`` is set (the cache), this service's database
otherwise, so the limits hold with the embedded default too. Every password check of the shop
comes here: the API login, the HTML login, both Django admins (the product admin through
``/internal/staff-sessions/``) and the OAuth2 endpoints that check a client secret.

Password checks count failures, per account and per client address (shop_common.client_address);
once either is over its limit, the check is refused before the password is looked at, so the right
password is refused too until the window ends. See docs/auth.md ("Brute force").
"""

import hashlib
import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework import status
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from accounts.models import AttemptCounter, normalize_email
from shop_common.cache import CacheUnavailable, cache_is_shared
from shop_common.client_address import client_address
from shop_common.errors import THROTTLED, ServiceError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*")


@dataclass(frozen=True)
class Rate:
    """``"10/15m"``: ten in any window of fifteen minutes. ``"30/min"`` and ``"20/hour"`` (DRF's
    spelling) work too."""

    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        match = _RATE.fullmatch(text)
        if not match:
            raise ValueError(f"A rate looks like '10/15m' or '30/min', not {text!r}.")
        count, span, unit = match.groups()
        return cls(limit=int(count), seconds=int(span or 1) * _UNITS[unit])


class TooManyAttempts(ServiceError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = THROTTLED
    default_detail = "Too many failed attempts. Try again later."

    def __init__(self, wait: int) -> None:
        super().__init__(
            f"Too many failed attempts. Try again in {wait} seconds.",
            details={"retry_after_seconds": wait},
        )
        self.wait = wait


@dataclass(frozen=True)
class Window:
    key: str
    ends: float

    @classmethod
    def current(cls, scope: str, ident: str, rate: Rate) -> "Window":
        index = int(time.time() // rate.seconds)
        return cls(key=f"throttle:{scope}:{ident}:{index}", ends=(index + 1) * rate.seconds)

    @property
    def wait(self) -> int:
        return max(1, math.ceil(self.ends - time.time()))

    def count(self) -> int:
        if cache_is_shared():
            return int(cache.get(self.key) or 0)
        return self._database_count()

    def _database_count(self) -> int:
        return (
            AttemptCounter.objects.filter(key=self.key).values_list("count", flat=True).first() or 0
        )

    def hit(self) -> int:
        if cache_is_shared():
            try:
                cache.add(self.key, 0, timeout=self.wait + 1)
                return cache.incr(self.key)
            except (CacheUnavailable, ValueError):  # Redis went away (or the key with it)
                pass
        expires_at = datetime.fromtimestamp(self.ends, tz=UTC)
        with transaction.atomic():
            if not AttemptCounter.objects.filter(key=self.key).update(count=F("count") + 1):
                try:
                    with transaction.atomic():
                        AttemptCounter.objects.create(key=self.key, count=1, expires_at=expires_at)
                except IntegrityError:  # another worker made the row first
                    AttemptCounter.objects.filter(key=self.key).update(count=F("count") + 1)
                AttemptCounter.objects.filter(expires_at__lt=datetime.now(tz=UTC)).delete()
        return self._database_count()


def _hashed(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class PasswordGuard:
    """Failed password checks of one account (an email, or an OAuth2 client id) and of one client
    address. ``check`` before looking at the password, ``failed`` after a wrong one."""

    account: str
    address: str

    def _windows(self) -> list[tuple[Window, Rate]]:
        per_account = Rate.parse(settings.PASSWORD_FAILURES_PER_ACCOUNT)
        per_address = Rate.parse(settings.PASSWORD_FAILURES_PER_ADDRESS)
        return [
            (
                Window.current(
                    "password-account", _hashed(normalize_email(self.account)), per_account
                ),
                per_account,
            ),
            (Window.current("password-address", _hashed(self.address), per_address), per_address),
        ]

    def check(self) -> None:
        for window, rate in self._windows():
            if window.count() >= rate.limit:
                raise TooManyAttempts(window.wait)

    def failed(self) -> None:
        for window, _ in self._windows():
            window.hit()


class SignupAddressThrottle(BaseThrottle):
    """Signups per client address (``SIGNUP_RATE_PER_IP``), counted in the shared store."""

    def allow_request(self, request: Request, view: object) -> bool:
        rate = Rate.parse(settings.SIGNUP_RATE_PER_IP)
        self.window = Window.current("signup-address", _hashed(client_address(request)), rate)
        return self.window.hit() <= rate.limit

    def wait(self) -> float | None:
        return self.window.wait
