"""Scale-out: two server instances of the same service on different ports against one MariaDB
schema, as two replicas behind a Kubernetes Service would be (docs/scaling.md). Buyers split across
two product services never oversell; the same webhook event delivered to two payment services at
once is applied once. MariaDB only: SQLite is one file on one machine, it has no replicas.
"""

import hashlib
import hmac
import itertools
import json
import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from shop_common.processes import ServiceProcess
from shop_common.testing.data import ADDRESS
from shop_common.testing.stack import demo_token, free_port, service_token
from shop_common.topology import SERVICES_BY_NAME
from tests.e2e.helpers import REPO_ROOT, bearer, running_stack


@pytest.fixture(scope="module")
def shop(tmp_path_factory, mariadb):
    # Two instances share one database only on MariaDB (SQLite has no replicas): the run's
    # MariaDB, or one of the session's own.
    services = [SERVICES_BY_NAME[name] for name in ("user", "product", "order", "payment")]
    # Correctness is measured here, not speed: on a loaded machine 20 buyers at once must not
    # turn into 503s for the default 5 s budget.
    with running_stack(
        tmp_path_factory,
        "twoinst",
        services=services,
        **mariadb,
        REQUEST_BUDGET_SECONDS="30",
        settings={"SERVICE_HTTP_READ_TIMEOUT": 30.0},
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def second(shop):
    """A second product service and a second payment service: same code, same environment, same
    schema, other ports."""
    processes = {}
    try:
        for name in ("product", "payment"):
            service = SERVICES_BY_NAME[name]
            process = ServiceProcess(
                service,
                REPO_ROOT / service.folder,
                free_port(),
                dict(shop.envs[name]),
                log_path=shop.workdir / f"{name}-2.log",
            )
            process.start()
            processes[name] = process
        for process in processes.values():
            process.wait_until_healthy()
        yield {name: process.url for name, process in processes.items()}
    finally:
        for process in processes.values():
            process.stop()


def new_product(shop, *, quantity: int) -> dict:
    staff = httpx.Client(
        base_url=shop.url("product"), headers=bearer(demo_token(shop, "STAFF")), timeout=30
    )
    category = staff.get("/category/").json()["results"][0]["id"]
    sku = f"TWO-{time.monotonic_ns()}"
    created = staff.post(
        "/products/",
        json={
            "title": sku,
            "sku": sku,
            "category": category,
            "price": "5.00",
            "quantity": quantity,
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


def test_buyers_split_over_two_product_services_never_oversell(shop, second):
    product = new_product(shop, quantity=30)
    instances = itertools.cycle([shop.url("product"), second["product"]])
    headers = bearer(service_token(shop, "order"))
    targets = [next(instances) for _ in range(100)]

    def buy(base: str) -> int | str:
        body = {
            "order_ref": f"two-{time.monotonic_ns()}-{os.urandom(4).hex()}",
            "lines": [{"product_id": product["id"], "quantity": 1}],
        }
        answer = httpx.post(
            f"{base}/internal/stock/reserve/", json=body, headers=headers, timeout=60
        )
        return answer.status_code if answer.status_code in (201, 409) else answer.text

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = Counter(pool.map(buy, targets))

    assert statuses == Counter({201: 30, 409: 70})
    for base in (shop.url("product"), second["product"]):
        seen = httpx.get(f"{base}/products/{product['id']}/").json()
        assert (seen["quantity"], seen["available"]) == (30, 0)


def signed(event: dict, secret: str) -> tuple[bytes, str]:
    """The body and Stripe-Signature header Stripe would send (docs/payments.md)."""
    payload = json.dumps(event).encode()
    timestamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return payload, f"t={timestamp},v1={mac.hexdigest()}"


def test_one_event_delivered_to_two_payment_services_at_once_is_applied_once(shop, second):
    product = new_product(shop, quantity=5)
    customer = shop.new_customer_token()
    order = httpx.post(
        f"{shop.url('order')}/orders/",
        json={"items": [{"product_id": product["id"], "quantity": 1}], "shipping_address": ADDRESS},
        headers=bearer(customer),
        timeout=30,
    )
    assert order.status_code == 201, order.text
    order = order.json()
    payment = httpx.post(
        f"{shop.url('payment')}/service/",
        json={"order_id": order["id"]},
        headers=bearer(customer),
        timeout=30,
    )
    assert payment.status_code == 201, payment.text
    payment = payment.json()
    event = {
        "id": f"evt_two_instances_{payment['payment_id']}",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": payment["checkout_url"].rstrip("/").rsplit("/", 1)[-1],
                "object": "checkout.session",
                "amount_total": int(Decimal(payment["amount"]) * 100),
                "currency": payment["currency"].lower(),
                "payment_status": "paid",
                "status": "complete",
                "metadata": {"payment_id": str(payment["payment_id"])},
                "client_reference_id": str(order["id"]),
            }
        },
    }
    payload, signature = signed(event, shop.secrets["STRIPE_WEBHOOK_SECRET"])
    instances = itertools.cycle([shop.url("payment"), second["payment"]])
    targets = [next(instances) for _ in range(16)]

    def deliver(base: str) -> tuple[int, str]:
        answer = httpx.post(
            f"{base}/webhook/stripe/",
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            timeout=60,
        )
        return answer.status_code, answer.json().get("outcome", answer.text)

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = Counter(pool.map(deliver, targets))

    assert answers == Counter({(200, "succeeded"): 1, (200, "duplicate:succeeded"): 15})
    track = httpx.get(
        f"{shop.url('order')}/orders/{order['id']}/track/", headers=bearer(customer)
    ).json()
    assert [step["status"] for step in track["status_history"]] == ["PENDING", "PAID"]
    seen = httpx.get(f"{second['product']}/products/{product['id']}/").json()
    assert (seen["quantity"], seen["available"]) == (4, 4)
