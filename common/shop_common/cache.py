"""Redis as an accelerator, not a dependency (docs/architecture.md, "Redis").

With ``REDIS_URL`` set, every service's cache is :class:`ResilientRedisCache`: Django's Redis cache
whose calls, while Redis cannot be reached, answer as a cache that holds nothing (a miss, a write
that keeps nothing) instead of raising. So the catalog is served uncached, tokens are validated
without the cache and throttles count in the database (accounts.throttles) — slower, never a 500.
After a failure the worker leaves Redis alone for ``CACHE_RETRY_SECONDS`` (so a dead server costs
no time per request), then tries again and recovers by itself. The degradation is logged once per
``CACHE_LOG_INTERVAL_SECONDS`` and reported by ``/health/``.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger("shop.cache")


class CacheUnavailable(Exception):
    """Raised by ``incr`` only (it has no harmless answer): callers count elsewhere."""


class _Outage:
    """This process's view of the Redis server: up, or down since when and retried when."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.logged_at = 0.0

    def skip(self) -> bool:
        return self.down_since is not None and time.monotonic() < self.retry_at

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            if self.down_since is None:
                self.down_since = time.time()
            self.retry_at = now + settings.CACHE_RETRY_SECONDS
            if now - self.logged_at >= settings.CACHE_LOG_INTERVAL_SECONDS or not self.logged_at:
                self.logged_at = now
                logger.warning(
                    "Redis cannot be reached (%s): serving without the cache, retrying every %s s",
                    error,
                    settings.CACHE_RETRY_SECONDS,
                )

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        with self.lock:
            if self.down_since is not None:
                logger.warning(
                    "Redis is back after %.0f s: the cache is used again",
                    time.time() - self.down_since,
                )
                self.down_since = None
                self.logged_at = 0.0


_outage = _Outage()


def cache_degraded() -> bool:
    """True while this process serves without its (Redis) cache."""
    return _outage.down_since is not None


def cache_is_shared() -> bool:
    """Every worker of every service sees the same cache: Redis is configured and, as far as this
    process knows, answering. A local-memory cache is one per process, and what one worker writes
    there another never reads."""
    return "redis" in settings.CACHES["default"]["BACKEND"].lower() and not cache_degraded()


def cache_state() -> dict[str, Any]:
    """What ``/health/`` reports. With Redis it asks Redis (one ``EXISTS``, through the guarded
    path, so an outage this worker had not yet met is found and remembered), except while the
    worker is leaving a known outage alone."""
    cache = caches["default"]
    backend = "redis" if isinstance(cache, ResilientRedisCache) else "local-memory"
    if backend == "redis":
        cache.has_key("health-probe")
    if _outage.down_since is None:
        return {"backend": backend, "status": "ok"}
    since = datetime.fromtimestamp(_outage.down_since, tz=UTC).isoformat()
    return {"backend": backend, "status": "degraded", "down_since": since}


_FAILURES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class ReusedRedisCacheClient(RedisCacheClient):
    """Django's Redis client, with one ``redis.Redis`` per server kept for every call instead of a
    new one each time. redis-py's ``Redis()`` builds enough objects to cost more CPU than the
    round trip itself (docs/development.md, "Figures behind design choices"), on the hot path of
    every validation the user service answers from Redis. A ``Redis`` is safe to share between
    threads (it takes a connection from the pool for each command), and this client is already
    one per thread (Django's caches are), so nothing is shared that was not before."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class ResilientRedisCache(RedisCache):
    """Django's Redis cache, answering as an empty cache while Redis cannot be reached."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient

    def _guarded(self, fallback: Callable[[], Any], call: Callable[[], Any]) -> Any:
        if _outage.skip():
            return fallback()
        try:
            result = call()
        except _FAILURES as error:
            _outage.failed(error)
            return fallback()
        _outage.succeeded()
        return result

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._guarded(lambda: default, lambda: RedisCache.get(self, key, default, version))

    def get_many(self, keys: Any, version: Any = None) -> dict:
        return self._guarded(dict, lambda: RedisCache.get_many(self, keys, version))

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self._guarded(lambda: False, lambda: RedisCache.has_key(self, key, version))

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._guarded(lambda: None, lambda: RedisCache.set(self, key, value, timeout, version))

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        return self._guarded(
            lambda: False, lambda: RedisCache.add(self, key, value, timeout, version)
        )

    def set_many(self, data: dict, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list:
        return self._guarded(
            lambda: list(data), lambda: RedisCache.set_many(self, data, timeout, version)
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._guarded(lambda: False, lambda: RedisCache.touch(self, key, timeout, version))

    def delete(self, key: Any, version: Any = None) -> bool:
        return self._guarded(lambda: False, lambda: RedisCache.delete(self, key, version))

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._guarded(lambda: None, lambda: RedisCache.delete_many(self, keys, version))

    def clear(self) -> bool:
        return self._guarded(lambda: False, lambda: RedisCache.clear(self))

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        def unavailable() -> int:
            raise CacheUnavailable("Redis cannot be reached")

        return self._guarded(unavailable, lambda: RedisCache.incr(self, key, delta, version))

    def raise_to(self, key: Any, value: int, timeout: float, version: Any = None) -> int | None:
        """Set the integer at ``key`` to ``value`` unless it already holds a greater one, in one
        atomic step, and keep it ``timeout`` seconds from now; the value held afterwards, or None
        while Redis cannot be reached. Two writers racing can never move it backwards, which a
        get-then-set could."""
        full_key = self.make_and_validate_key(key, version=version)

        def call() -> int:
            client = self._cache.get_client(full_key, write=True)
            return int(client.eval(_RAISE_TO, 1, full_key, int(value), max(1, int(timeout))))

        return self._guarded(lambda: None, call)

    def get_under_version(self, version_key: Any, head: str, tail: str) -> tuple[int | None, Any]:
        """In one round trip: the integer at ``version_key`` and the value at the key
        ``f"{head}{that integer}{tail}"`` — a cached answer filed under a version that moves on every
        write (catalog.cache). ``(None, None)`` when the integer is missing or Redis cannot be
        reached; ``(version, None)`` when nothing is filed under it yet. The script names the
        second key itself, which a single Redis server (and a primary with replicas) allows and
        Redis Cluster would not."""
        version_key = self.make_and_validate_key(version_key)
        head = self.make_and_validate_key(head)

        def call() -> tuple[int | None, Any]:
            client = self._cache.get_client(version_key)
            held, value = client.eval(_GET_UNDER_VERSION, 1, version_key, head, tail)
            if held is None:
                return None, None
            return int(held), (None if value is None else self._cache._serializer.loads(value))

        return self._guarded(lambda: (None, None), call)


_GET_UNDER_VERSION = """
local held = redis.call('GET', KEYS[1])
if not held then
    return {false, false}
end
return {held, redis.call('GET', ARGV[1] .. held .. ARGV[2])}
"""

# KEYS[1] the integer, ARGV[1] the candidate, ARGV[2] its lifetime in seconds.
_RAISE_TO = """
local held = tonumber(redis.call('GET', KEYS[1]))
local candidate = tonumber(ARGV[1])
if held == nil or held < candidate then
    redis.call('SET', KEYS[1], candidate, 'EX', ARGV[2])
    return candidate
end
return held
"""
