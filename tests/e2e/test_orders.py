"""Orders over real HTTP: the order service prices from and reserves in the product service."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from shop_common.testing.data import ADDRESS


def client(stack, service: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=stack.url(service), headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


@pytest.fixture
def customer_orders(stack, token_of):
    return client(stack, "order", token_of("CUSTOMER"))


@pytest.fixture
def staff_orders(stack, token_of):
    return client(stack, "order", token_of("STAFF"))


@pytest.fixture
def product(new_product):
    return new_product(price="12.50", quantity=20)


def stock_of(stack, product_id: int, token: str) -> tuple[int, int]:
    answer = client(stack, "product", token).get(f"/products/{product_id}/").json()
    return answer["quantity"], answer["available"]


def test_place_track_and_cancel_moves_the_stock(stack, customer_orders, product, token_of):
    placed = customer_orders.post(
        "/orders/",
        json={"items": [{"product_id": product["id"], "quantity": 3}], "shipping_address": ADDRESS},
    )

    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["subtotal"], order["tax_amount"], order["total_amount"]) == (
        "37.50",
        "3.00",
        "50.50",
    )
    assert stock_of(stack, product["id"], token_of("STAFF")) == (20, 17)
    assert (
        customer_orders.get(f"/orders/{order['id']}/track/").json()["current_status"] == "PENDING"
    )

    cancelled = customer_orders.post(f"/orders/{order['id']}/cancel/")

    assert cancelled.json()["status"] == "CANCELLED"
    assert stock_of(stack, product["id"], token_of("STAFF")) == (20, 20)


def test_paid_order_commits_its_stock_and_staff_move_it_to_delivered(
    stack, customer_orders, staff_orders, product, token_of, service_token_of
):
    order = customer_orders.post(
        "/orders/",
        json={"items": [{"product_id": product["id"], "quantity": 2}], "shipping_address": ADDRESS},
    ).json()
    payments = client(stack, "order", service_token_of("payment"))

    paid = payments.post(
        f"/internal/orders/{order['id']}/payment-succeeded/", json={"payment_reference": "pay_e2e"}
    )
    confirmed = staff_orders.post(f"/orders/{order['id']}/confirm/")
    shipped = staff_orders.put(
        f"/orders/{order['id']}/status/",
        json={"status": "SHIPPED", "tracking_number": "1Z1", "carrier": "UPS"},
    )
    delivered = staff_orders.put(f"/orders/{order['id']}/status/", json={"status": "DELIVERED"})

    assert [r.status_code for r in (paid, confirmed, shipped, delivered)] == [200, 200, 200, 200]
    assert stock_of(stack, product["id"], token_of("STAFF")) == (18, 18)
    history = [
        step["status"]
        for step in customer_orders.get(f"/orders/{order['id']}/track/").json()["status_history"]
    ]
    assert history == ["PENDING", "PAID", "CONFIRMED", "SHIPPED", "DELIVERED"]
    assert (
        staff_orders.put(f"/orders/{order['id']}/status/", json={"status": "CANCELLED"}).status_code
        == 409
    )


def test_ten_concurrent_identical_requests_make_one_order_and_one_reservation(
    stack, token_of, product
):
    token = stack.new_customer_token()
    orders = client(stack, "order", token)
    body = {"items": [{"product_id": product["id"], "quantity": 4}], "shipping_address": ADDRESS}
    key = f"checkout-{uuid.uuid4().hex}"

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(
            pool.map(
                lambda _: orders.post("/orders/", json=body, headers={"Idempotency-Key": key}),
                range(10),
            )
        )

    assert sorted(answer.status_code for answer in answers) == [200] * 9 + [201], [
        a.text for a in answers if a.status_code >= 300
    ]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert orders.get("/orders/history/").json()["count"] == 1
    assert stock_of(stack, product["id"], token_of("STAFF")) == (20, 16)


def test_out_of_stock_places_no_order(stack, customer_orders, product):
    before = customer_orders.get("/orders/history/").json()["count"]

    response = customer_orders.post(
        "/orders/",
        json={
            "items": [{"product_id": product["id"], "quantity": 21}],
            "shipping_address": ADDRESS,
        },
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "out_of_stock"
    assert customer_orders.get("/orders/history/").json()["count"] == before
