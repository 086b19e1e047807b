"""Redis is an accelerator, not a dependency: a real redis-server, stopped and started again."""

import logging
import shutil
import subprocess
import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from shop_common import cache as shop_cache
from shop_common.testing.stack import free_port
from shop_common.testing.stack import start_redis_server as start_redis

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server here")


def stop_redis(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def redis_cache(tmp_path):
    """This project's cache on a redis-server of its own, which the test may stop and start."""
    port = free_port()
    server = {"process": start_redis(port, tmp_path)}
    shop_cache._outage.__init__()
    location = f"redis://127.0.0.1:{port}/0"
    settings = {
        "default": {
            "BACKEND": "shop_common.cache.ResilientRedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=settings, CACHE_RETRY_SECONDS=0.3, CACHE_LOG_INTERVAL_SECONDS=60):
        yield server, lambda: server.update(process=start_redis(port, tmp_path))
    if server["process"].poll() is None:
        stop_redis(server["process"])
    shop_cache._outage.__init__()


def test_with_redis_down_the_cache_answers_as_an_empty_one(redis_cache):
    server, _ = redis_cache
    cache.set("catalog:page", "cached")
    assert cache.get("catalog:page") == "cached"

    stop_redis(server["process"])

    assert cache.get("catalog:page") is None
    assert cache.get("catalog:page", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("k", 1) is False
    cache.set("k", 1)  # keeps nothing, raises nothing
    cache.delete("k")
    with pytest.raises(shop_cache.CacheUnavailable):
        cache.incr("k")
    assert shop_cache.cache_degraded()
    assert shop_cache.cache_state()["status"] == "degraded"


def test_a_dead_redis_costs_no_time_per_call_and_is_logged_once(redis_cache, caplog):
    server, _ = redis_cache
    stop_redis(server["process"])
    caplog.set_level(logging.WARNING, logger="shop.cache")
    cache.get("first")  # finds it down

    started = time.perf_counter()
    for _ in range(200):
        cache.get("again")
    elapsed = time.perf_counter() - started

    assert elapsed < 0.1, f"200 calls took {elapsed:.3f} s while Redis is down"
    assert len([r for r in caplog.records if "cannot be reached" in r.getMessage()]) == 1


def test_the_cache_recovers_by_itself_when_redis_returns(redis_cache, caplog):
    server, restart = redis_cache
    stop_redis(server["process"])
    cache.get("probe")
    assert shop_cache.cache_degraded()
    caplog.set_level(logging.WARNING, logger="shop.cache")

    restart()
    time.sleep(0.35)  # CACHE_RETRY_SECONDS in this test
    cache.set("after", "back")

    assert cache.get("after") == "back"
    assert not shop_cache.cache_degraded()
    assert shop_cache.cache_state() == {"backend": "redis", "status": "ok"}
    assert any("Redis is back" in r.getMessage() for r in caplog.records)


def test_health_finds_an_outage_this_worker_has_not_met_yet(redis_cache):
    """Under the server the worker answering /health/ may not have used the cache since Redis
    died: the health check asks Redis itself instead of reporting an old "ok"."""
    server, _ = redis_cache
    assert shop_cache.cache_state()["status"] == "ok"
    stop_redis(server["process"])

    assert not shop_cache.cache_degraded()  # nothing has used the cache since
    assert shop_cache.cache_state()["status"] == "degraded"
    assert shop_cache.cache_degraded()


def test_one_redis_client_serves_every_call_of_a_thread(redis_cache):
    # A new redis.Redis per call cost twice the round trip itself (shop_common.cache).
    client = cache._cache.get_client()
    cache.set("catalog:page", "cached")

    assert cache.get("catalog:page") == "cached"
    assert cache._cache.get_client(write=True) is client


def test_raise_to_never_lowers_a_value_and_gives_it_a_lifetime(redis_cache):
    server, _ = redis_cache
    assert cache.raise_to("catalog:version", 5, timeout=30) == 5
    assert cache.raise_to("catalog:version", 3, timeout=30) == 5
    assert cache.get("catalog:version") == 5
    assert cache.raise_to("catalog:version", 6, timeout=30) == 6
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_key("catalog:version")) <= 30

    stop_redis(server["process"])
    assert cache.raise_to("catalog:version", 7, timeout=30) is None


def test_get_under_version_reads_the_version_and_what_is_filed_under_it_at_once(redis_cache):
    server, _ = redis_cache
    assert cache.get_under_version("catalog:version", "catalog:v", ":page") == (None, None)
    cache.raise_to("catalog:version", 4, timeout=30)
    assert cache.get_under_version("catalog:version", "catalog:v", ":page") == (4, None)
    cache.set("catalog:v4:page", b'{"results": []}')
    cache.set("catalog:v5:page", b"newer")
    assert cache.get_under_version("catalog:version", "catalog:v", ":page") == (
        4,
        b'{"results": []}',
    )

    stop_redis(server["process"])
    assert cache.get_under_version("catalog:version", "catalog:v", ":page") == (None, None)
