"""Throttles of everything that checks a password or opens an account, with one counter shared by
every server worker: Redis when ``REDIS_URL`` is set (the cache), this service's database
otherwise, so the limits hold with the embedded default too. Every password check of the shop
comes here: the API login, the HTML login, both Django admins (the product admin through
``/internal/staff-sessions/``) and the OAuth2 endpoints that check a client secret.

People (and OAuth2 clients that are not the shop's services) are locked per (account, address)
pair and per address, never per account: across addresses an account is slowed down by a bounded
delay instead, so nobody can lock another person out from elsewhere. The addresses the shop's
services call from are never locked by the address counter. See docs/auth.md ("Brute force").
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
from shop_common import metrics
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


# The cross-address slowdown of one account: past the pair limit, each further failure doubles the
# wait before the next check, up to a bound a person with the right password can live with.
SLOWDOWN_FIRST_SECONDS = 0.25
SLOWDOWN_MAX_SECONDS = 4.0
# How long an address stays known as one the shop's services call from after one proved it.
SERVICE_ADDRESS_SECONDS = 7 * 86400


def slowdown(failures_past_limit: int) -> float:
    """Seconds to wait before checking a password of an account that failed this many times more
    than one address may fail it."""
    if failures_past_limit < 0:
        return 0.0
    return min(SLOWDOWN_MAX_SECONDS, SLOWDOWN_FIRST_SECONDS * 2 ** min(failures_past_limit, 16))


def hold(seconds: float) -> None:
    """The slowdown's wait: a sleep of this worker thread, bounded by SLOWDOWN_MAX_SECONDS, with no
    transaction or lock open (tests replace it to see the wait without taking it)."""
    time.sleep(seconds)


def _counts(windows: list[Window]) -> list[int]:
    if cache_is_shared():
        found = cache.get_many([window.key for window in windows])
        return [int(found.get(window.key) or 0) for window in windows]
    rows = dict(
        AttemptCounter.objects.filter(key__in=[window.key for window in windows]).values_list(
            "key", "count"
        )
    )
    return [rows.get(window.key, 0) for window in windows]


def _service_address_key(address: str) -> str:
    return f"service-address:{_hashed(address)}"


def remember_service_address(address: str) -> None:
    """``address`` is one a shop service called from, proved by its secret or its token. Kept in the
    database, whatever the cache: a Redis restart must not put the address back under the lock."""
    key, now = _service_address_key(address), time.time()
    # Every worker of every service proves the same address as it starts: one write a day will do.
    fresh = datetime.fromtimestamp(now + SERVICE_ADDRESS_SECONDS - 86400, tz=UTC)
    if AttemptCounter.objects.filter(key=key, expires_at__gt=fresh).exists():
        return
    expires_at = datetime.fromtimestamp(now + SERVICE_ADDRESS_SECONDS, tz=UTC)
    AttemptCounter.objects.update_or_create(
        key=key, defaults={"count": 1, "expires_at": expires_at}
    )


def is_service_address(address: str) -> bool:
    return AttemptCounter.objects.filter(
        key=_service_address_key(address), expires_at__gt=datetime.now(tz=UTC)
    ).exists()


@dataclass(frozen=True)
class AddressGuard:
    """Failed secret checks from one client address, across accounts: locked at
    ``PASSWORD_FAILURES_PER_ADDRESS`` unless a shop service proved the address
    (:func:`remember_service_address`)."""

    address: str

    @property
    def window(self) -> Window:
        rate = Rate.parse(settings.PASSWORD_FAILURES_PER_ADDRESS)
        return Window.current("password-address", _hashed(self.address), rate)

    def refuses(self, count: int) -> bool:
        limit = Rate.parse(settings.PASSWORD_FAILURES_PER_ADDRESS).limit
        return count >= limit and not is_service_address(self.address)

    def check(self) -> None:
        """:raises TooManyAttempts: the address failed too often and no service calls from it."""
        window = self.window
        if self.refuses(window.count()):
            raise TooManyAttempts(window.wait)

    def failed(self) -> None:
        self.window.hit()


@dataclass(frozen=True)
class PasswordGuard:
    """Failed password checks of one account (an email, or an OAuth2 client id) from one client
    address. ``check`` before looking at the password, ``failed`` after a wrong one.

    - the (account, address) pair: locked at ``PASSWORD_FAILURES_PER_ACCOUNT``;
    - the address, across accounts: :class:`AddressGuard`;
    - the account, across addresses: never locked; past the pair limit every check of it waits
      :func:`slowdown` seconds first.
    """

    account: str
    address: str

    def _windows(self) -> tuple[Window, Window, Window]:
        per_pair = Rate.parse(settings.PASSWORD_FAILURES_PER_ACCOUNT)
        account = normalize_email(self.account)
        return (
            Window.current("password-pair", _hashed(f"{account}\n{self.address}"), per_pair),
            AddressGuard(self.address).window,
            Window.current("password-account", _hashed(account), per_pair),
        )

    def check(self) -> None:
        """:raises TooManyAttempts: the pair, or an address no service calls from, failed too
        often. Otherwise waits the account's slowdown, if any, holding nothing but this worker."""
        pair, address, account = self._windows()
        pair_count, address_count, account_count = _counts([pair, address, account])
        pair_limit = Rate.parse(settings.PASSWORD_FAILURES_PER_ACCOUNT).limit
        if pair_count >= pair_limit:
            raise TooManyAttempts(pair.wait)
        if AddressGuard(self.address).refuses(address_count):
            raise TooManyAttempts(address.wait)
        delay = slowdown(account_count - pair_limit)
        if delay:
            metrics.PASSWORD_SLOWDOWNS.inc()
            hold(delay)

    def failed(self) -> None:
        for window in self._windows():
            window.hit()


class SignupAddressThrottle(BaseThrottle):
    """Signups per client address (``SIGNUP_RATE_PER_IP``), counted in the shared store."""

    def allow_request(self, request: Request, view: object) -> bool:
        rate = Rate.parse(settings.SIGNUP_RATE_PER_IP)
        self.window = Window.current("signup-address", _hashed(client_address(request)), rate)
        return self.window.hit() <= rate.limit

    def wait(self) -> float | None:
        return self.window.wait
