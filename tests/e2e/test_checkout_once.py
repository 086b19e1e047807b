"""One order per cart, whatever happens to the checkout: ten concurrent checkouts of one cart, each
with its own Idempotency-Key, make one order (the others are told 409: the order, or that it is
being placed); a checkout whose answer was lost (the integration
service died while its database refused the write of that answer) is answered its order when
retried with the same key, never `cart_empty`. Real HTTP through all six services; on MariaDB when
DB_ENGINE=mysql (docs/cart.md, "Checkout")."""

import contextlib
import os
import signal
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx

from shop_common.testing.data import ADDRESS
from shop_common.testing.stack import Stack
from shop_common.testing.waiting import eventually
from tests.e2e.helpers import bearer

CONCURRENT = 10


def history(stack: Stack, token: str) -> dict:
    return httpx.get(f"{stack.url('order')}/orders/history/", headers=bearer(token)).json()


def payments(stack: Stack, token: str) -> dict:
    return httpx.get(f"{stack.url('payment')}/payments/", headers=bearer(token)).json()


def available(stack: Stack, product_id: int) -> int:
    return httpx.get(f"{stack.url('product')}/products/{product_id}/").json()["available"]


def checkout(stack: Stack, token: str, body: dict, key: str) -> httpx.Response:
    return httpx.post(
        f"{stack.url('integration')}/checkout/",
        json=body,
        headers={**bearer(token), "Idempotency-Key": key},
        timeout=60,
    )


def test_ten_concurrent_checkouts_of_one_cart_with_their_own_keys_make_one_order(
    stack, new_product
):
    customer = stack.new_customer_token()
    product = new_product(quantity=20)
    added = httpx.post(
        f"{stack.url('integration')}/cart/add/",
        json={"product_id": product["id"], "quantity": 3},
        headers=bearer(customer),
    )
    assert added.status_code == 200, added.text
    # Half of them with another address: the order service would see another body under one key.
    bodies = [
        {"shipping_address": ADDRESS if n % 2 else {**ADDRESS, "city": "Shelbyville"}}
        for n in range(CONCURRENT)
    ]
    start = threading.Barrier(CONCURRENT)

    def one(n: int) -> httpx.Response:
        start.wait()
        return checkout(stack, customer, bodies[n], f"tab-{n}-{uuid.uuid4().hex}")

    with ThreadPoolExecutor(CONCURRENT) as pool:
        answers = list(pool.map(one, range(CONCURRENT)))

    orders = history(stack, customer)
    assert orders["count"] == 1, [answer.text for answer in answers]
    order_id = orders["results"][0]["id"]
    for answer in answers:
        if answer.status_code == 201:
            assert answer.json()["order"]["id"] == order_id
        else:
            assert answer.status_code == 409, answer.text
            error = answer.json()["error"]
            # Named once it exists; while the first checkout is placing it, it has no id yet.
            assert error["code"] in ("cart_checked_out", "cart_checkout_in_progress"), error
            if error["code"] == "cart_checked_out":
                assert error["details"]["order_id"] == order_id
    assert any(answer.status_code == 201 for answer in answers)
    assert available(stack, product["id"]) == 17, "reserved once"
    started = {
        answer.json()["payment"]["payment_id"]
        for answer in answers
        if answer.status_code == 201 and answer.json()["payment"]
    }
    assert payments(stack, customer)["count"] == len(started) <= 1, [a.text for a in answers]
    cart = httpx.get(f"{stack.url('cart')}/api/cart/", headers=bearer(customer)).json()
    assert cart["items"] == []


@contextlib.contextmanager
def answers_not_stored(stack: Stack) -> Iterator[None]:
    """The integration service's table of first answers takes no write while this lasts: on
    MariaDB a READ lock (reads go on, an INSERT waits), on SQLite a write transaction held open."""
    env = stack.envs["integration"]
    if env.get("DB_ENGINE", "sqlite") == "mysql":
        import MySQLdb

        database = MySQLdb.connect(
            host=env.get("DB_HOST", "127.0.0.1"),
            port=int(env.get("DB_PORT", "3306")),
            user=env.get("DB_USER", "root"),
            password=env.get("DB_PASSWORD", ""),
            database=env["DB_NAME"],
        )
        database.cursor().execute("LOCK TABLES checkout_idempotencyrecord READ")
        try:
            yield
        finally:
            database.cursor().execute("UNLOCK TABLES")
            database.close()
    else:
        database = sqlite3.connect(env["DB_NAME"], isolation_level=None)
        database.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            database.execute("ROLLBACK")
            database.close()


def kill_and_restart(stack: Stack, name: str) -> None:
    service = stack.processes[name]
    os.killpg(service.process.pid, signal.SIGKILL)
    service.process.wait()
    service.start()
    service.wait_until_healthy()


def test_a_checkout_whose_answer_was_lost_is_answered_its_order_when_retried(stack, new_product):
    customer = stack.new_customer_token()
    product = new_product(quantity=5)
    httpx.post(
        f"{stack.url('integration')}/cart/add/",
        json={"product_id": product["id"], "quantity": 2},
        headers=bearer(customer),
    )
    key = f"lost-{uuid.uuid4().hex}"
    body = {"shipping_address": ADDRESS}

    with answers_not_stored(stack), ThreadPoolExecutor(1) as pool:
        first = pool.submit(checkout, stack, customer, body, key)
        # Placed, cart emptied, payment started: all that is left is storing the answer.
        eventually(lambda: payments(stack, customer)["count"], lambda count: count == 1)
        kill_and_restart(stack, "integration")
        lost = first.exception() or first.result()
    assert not isinstance(lost, httpx.Response) or lost.status_code >= 500, lost.text

    retry = checkout(stack, customer, body, key)

    assert retry.status_code == 201, retry.text
    orders = history(stack, customer)
    assert orders["count"] == 1
    assert retry.json()["order"]["id"] == orders["results"][0]["id"]
    assert retry.json()["order"]["status"] == "PENDING"
    assert (
        retry.json()["payment"]["payment_id"]
        == payments(stack, customer)["results"][0]["payment_id"]
    )
    assert available(stack, product["id"]) == 3
