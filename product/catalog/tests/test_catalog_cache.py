"""The catalog cache with a shared Redis (docs/catalog.md, "Caching"): a hit runs no SQL,
a write is seen by the very next read, and a version raise lost to Redis is seen within
CATALOG_VERSION_RECHECK_SECONDS."""

import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from catalog import cache as catalog_cache
from shop_common import cache as shop_cache
from shop_common.testing.stack import free_port
from shop_common.testing.waiting import eventually

pytestmark = pytest.mark.django_db


def price_in_list_and_detail(client, product) -> tuple[str, str]:
    return (
        client.get("/products/").json()["results"][0]["price"],
        client.get(f"/products/{product.id}/").json()["price"],
    )


def test_with_a_shared_cache_a_cached_read_runs_no_sql(
    shared_cache, role_client, product, django_assert_num_queries
):
    public = role_client(None)
    public.get("/products/")
    public.get(f"/products/{product.id}/")

    with django_assert_num_queries(0):
        assert public.get("/products/").status_code == 200
        assert public.get(f"/products/{product.id}/").status_code == 200


def test_with_a_shared_cache_a_price_change_is_served_at_once(
    shared_cache, role_client, product, django_capture_on_commit_callbacks
):
    public = role_client(None)
    assert price_in_list_and_detail(public, product) == ("44.50", "44.50")

    with django_capture_on_commit_callbacks(execute=True):
        role_client("STAFF").patch(f"/products/{product.id}/", {"price": "39.99"})

    assert price_in_list_and_detail(role_client(None), product) == ("39.99", "39.99")


def test_a_reader_that_read_the_row_before_a_write_cannot_lower_the_shared_version(
    shared_cache, role_client, product, django_capture_on_commit_callbacks
):
    public = role_client(None)
    assert price_in_list_and_detail(public, product) == ("44.50", "44.50")
    read_before_the_write = catalog_cache.stored_version()

    with django_capture_on_commit_callbacks(execute=True):
        role_client("STAFF").patch(f"/products/{product.id}/", {"price": "39.99"})
    # The slow reader now copies what it read into Redis, after the writer raised it.
    catalog_cache._raise_shared_copy(read_before_the_write)

    assert cache.get(catalog_cache.VERSION_KEY) == read_before_the_write + 1
    assert price_in_list_and_detail(role_client(None), product) == ("39.99", "39.99")


def test_a_version_raise_lost_to_redis_is_seen_within_the_recheck(
    shared_cache, role_client, product, django_capture_on_commit_callbacks, monkeypatch, settings
):
    settings.CATALOG_VERSION_RECHECK_SECONDS = 1
    public = role_client(None)
    assert price_in_list_and_detail(public, product) == ("44.50", "44.50")

    with monkeypatch.context() as redis_unreachable:
        redis_unreachable.setattr(catalog_cache, "_raise_shared_copy", lambda version: None)
        with django_capture_on_commit_callbacks(execute=True):
            role_client("STAFF").patch(f"/products/{product.id}/", {"price": "39.99"})
    written = time.monotonic()

    # The bound is real: until the copy is read again from the row, the older answers are served.
    assert price_in_list_and_detail(public, product) == ("44.50", "44.50")
    seen = eventually(
        lambda: price_in_list_and_detail(public, product),
        lambda prices: prices == ("39.99", "39.99"),
        timeout=2.5 - (time.monotonic() - written),
        interval=0.05,
    )
    assert seen == ("39.99", "39.99"), "the write was not seen after the recheck"


def test_with_redis_unreachable_the_version_comes_from_the_row(
    role_client, product, django_capture_on_commit_callbacks, django_assert_num_queries
):
    dead = {
        "default": {
            "BACKEND": "shop_common.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=dead):
        public = role_client(None)
        assert price_in_list_and_detail(public, product) == ("44.50", "44.50")
        with django_capture_on_commit_callbacks(execute=True):
            role_client("STAFF").patch(f"/products/{product.id}/", {"price": "39.99"})
        assert price_in_list_and_detail(public, product) == ("39.99", "39.99")
    shop_cache._outage.__init__()
