"""Deadlines and compensation under the server: a hung product service costs the caller its budget,
not 15 s; a request whose deadline has passed is refused before any work; a cancellation made while
the product service is down releases its stock once it is back (docs/architecture.md, docs/orders.md).

A stack of its own (user, product, order) with a 3 s budget, so the hung case stays short.
"""

import os
import signal
import time

import httpx
import pytest

from shop_common.deadlines import format_deadline
from shop_common.testing.data import ADDRESS
from shop_common.topology import SERVICES_BY_NAME
from tests.e2e.helpers import bearer, running_stack

BUDGET = 3.0


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    with running_stack(
        tmp_path_factory,
        "deadlines",
        services=(SERVICES_BY_NAME[name] for name in ("user", "product", "order")),
        REQUEST_BUDGET_SECONDS=str(BUDGET),
        SIGNUP_RATE_PER_IP="10000/hour",
        settings={"CATALOG_CACHE_TTL": 0},
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def customer(shop) -> dict[str, str]:
    """A new customer, after one order placed and cancelled: the services' own tokens (hashed
    client secrets, slow on a busy machine) are fetched then, not inside a test's budget."""
    headers = bearer(shop.new_customer_token())
    for _ in range(3):
        placed = httpx.post(
            f"{shop.url('order')}/orders/",
            json=order_body(a_product_in_stock(shop)),
            headers=headers,
        )
        if placed.status_code == 201:
            break
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    assert httpx.post(f"{shop.url('order')}/orders/{order_id}/cancel/", headers=headers).is_success
    return headers


def available(shop, product_id: int) -> int:
    return httpx.get(f"{shop.url('product')}/products/{product_id}/").json()["available"]


def a_product_in_stock(shop) -> int:
    products = httpx.get(f"{shop.url('product')}/products/", params={"in_stock": "true"}).json()
    return products["results"][0]["id"]


def order_body(product_id: int, quantity: int = 2) -> dict:
    return {
        "items": [{"product_id": product_id, "quantity": quantity}],
        "shipping_address": ADDRESS,
    }


def test_a_hung_product_service_is_a_503_naming_it_within_the_budget(shop, customer):
    product_id = a_product_in_stock(shop)
    product = shop.processes["product"].process
    os.killpg(product.pid, signal.SIGSTOP)  # alive, connections accepted, nothing answered
    try:
        started = time.monotonic()
        response = httpx.post(
            f"{shop.url('order')}/orders/",
            json=order_body(product_id),
            headers=customer,
            timeout=30,
        )
        elapsed = time.monotonic() - started
    finally:
        os.killpg(product.pid, signal.SIGCONT)

    # Without deadlines the caller would wait out a read timeout on each of three attempts.
    assert response.status_code == 503, response.text
    assert response.json()["error"]["details"]["service"] == "product"
    assert elapsed < BUDGET + 1, elapsed
    history = httpx.get(f"{shop.url('order')}/orders/history/", headers=customer).json()
    assert [order["status"] for order in history["results"]] == ["CANCELLED"]  # the warm-up's


def test_a_request_past_its_deadline_is_refused_before_any_work(shop, customer):
    product_id = a_product_in_stock(shop)
    before = available(shop, product_id)

    response = httpx.post(
        f"{shop.url('order')}/orders/",
        json=order_body(product_id),
        headers={**customer, "X-Request-Deadline": format_deadline(time.time() - 1)},
    )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "deadline_exceeded"
    assert available(shop, product_id) == before
    history = httpx.get(f"{shop.url('order')}/orders/history/", headers=customer).json()
    assert history["count"] == 1  # the warm-up's


def test_a_cancel_while_the_product_service_is_down_releases_once_it_is_back(shop, customer):
    product_id = a_product_in_stock(shop)
    # Releases the earlier tests left in the outbox go first: delivered during this placement
    # (the drain after a response), they would move the stock between the two readings.
    shop.manage("order", "drain_outbox")
    before = available(shop, product_id)
    placed = httpx.post(
        f"{shop.url('order')}/orders/", json=order_body(product_id), headers=customer
    )
    assert placed.status_code == 201, placed.text
    assert available(shop, product_id) == before - 2

    product = shop.processes["product"]
    product.stop()
    try:
        cancelled = httpx.post(
            f"{shop.url('order')}/orders/{placed.json()['id']}/cancel/", headers=customer
        )
    finally:
        product.start()
        product.wait_until_healthy()

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"
    assert available(shop, product_id) == before - 2  # still held: the release is in the outbox

    started = time.monotonic()
    # (The warm-up's retried placements may have left releases of their own to deliver.)
    assert ", 0 pending" in shop.manage("order", "drain_outbox")
    assert available(shop, product_id) == before
    assert time.monotonic() - started < 60
