"""Redis is an accelerator, not a dependency: the shop under the server with a Redis of its own,
which the test stops and starts again. Nothing answers 500; everything works from the databases,
slower, and the cache is used again once Redis is back. With Redis the catalog's version lives
there too (docs/catalog.md, "Caching"): a write is still seen by every worker at once."""

import shutil
import uuid

import httpx
import pytest

from shop_common.demo import DEMO_LOGINS
from shop_common.testing.stack import Stack, demo_token, free_port, start_redis_server
from shop_common.topology import SERVICES_BY_NAME
from tests.e2e.helpers import bearer, running_stack

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server here")


@pytest.fixture(scope="module")
def redis_shop(tmp_path_factory):
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    redis = {"process": start_redis_server(port, folder)}
    try:
        with running_stack(
            tmp_path_factory,
            "redis",
            services=(SERVICES_BY_NAME[name] for name in ("user", "product", "cart")),
            REDIS_URL=f"redis://127.0.0.1:{port}/0",
            CACHE_KEY_PREFIX=f"e2e-redis-{uuid.uuid4().hex[:8]}",
            settings={"CACHE_RETRY_SECONDS": 1.0},
        ) as shop:
            yield shop, redis, lambda: redis.update(process=start_redis_server(port, folder))
    finally:
        if redis["process"].poll() is None:
            redis["process"].terminate()


def shop_works(shop: Stack) -> list[int]:
    """Login (throttle counters), the catalog (its cache) and a cart (token validation cache)."""
    email, password = DEMO_LOGINS["CUSTOMER"]
    login = httpx.post(
        f"{shop.url('user')}/auth/login/", json={"email": email, "password": password}
    )
    token = login.json().get("access", "")
    return [
        login.status_code,
        httpx.get(f"{shop.url('product')}/products/").status_code,
        httpx.get(f"{shop.url('product')}/products/?ordering=price").status_code,
        httpx.get(f"{shop.url('cart')}/api/cart/", headers=bearer(token)).status_code,
        httpx.get(f"{shop.url('cart')}/api/cart/", headers=bearer(token)).status_code,
    ]


def health_cache(shop: Stack, service: str) -> dict:
    return httpx.get(f"{shop.url(service)}/health/").json()["cache"]


def test_the_shop_keeps_answering_without_redis_and_recovers(redis_shop):
    shop, redis, restart = redis_shop
    assert shop_works(shop) == [200] * 5

    redis["process"].terminate()
    redis["process"].wait(timeout=10)
    without = shop_works(shop)
    degraded = {name: health_cache(shop, name)["status"] for name in ("user", "product", "cart")}

    restart()
    back = []
    for _ in range(3):  # each worker retries Redis CACHE_RETRY_SECONDS after its last failure
        back = shop_works(shop)
    recovered = health_cache(shop, "product")

    assert without == [200] * 5, "a 500 or 503 while Redis is down"
    assert "degraded" in degraded.values()
    assert back == [200] * 5
    assert recovered["backend"] == "redis"


def test_with_redis_a_price_change_is_served_at_once_by_every_worker(redis_shop):
    shop, redis, restart = redis_shop
    if redis["process"].poll() is not None:
        restart()
    staff = httpx.Client(
        base_url=shop.url("product"), headers=bearer(demo_token(shop, "STAFF")), timeout=30
    )
    product = httpx.get(f"{shop.url('product')}/products/").json()["results"][0]
    detail = f"{shop.url('product')}/products/{product['id']}/"
    listing = f"{shop.url('product')}/products/"

    def prices_seen() -> set[str]:
        # 20 reads each on fresh connections: both workers answer some of them.
        return {httpx.get(detail).json()["price"] for _ in range(20)} | {
            item["price"]
            for _ in range(20)
            for item in httpx.get(listing).json()["results"]
            if item["id"] == product["id"]
        }

    try:
        for price in ("123.45", "67.89"):
            assert prices_seen() - {price}, "the cache was not primed with the old price"
            assert staff.patch(f"/products/{product['id']}/", json={"price": price}).is_success
            assert prices_seen() == {price}
    finally:
        staff.patch(f"/products/{product['id']}/", json={"price": product["price"]})
