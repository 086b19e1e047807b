"""The shop end to end through the integration service, all six services and the Stripe sandbox
under the server: the seven scenarios of the integration issue (the seventh, Chromium clicking the
hosted page, is in test_payments.py)."""

import time
import uuid

import httpx
import pytest

from shop_common.testing.data import ADDRESS
from shop_common.testing.waiting import eventually
from tests.e2e.helpers import bearer, wait_for_order_status


@pytest.fixture
def shopper(stack) -> str:
    """A new customer's access token (never validated before, so in no service's cache)."""
    return stack.new_customer_token()


@pytest.fixture
def two_products(new_product) -> list[dict]:
    return [new_product(price="15.00", quantity=10), new_product(price="4.50", quantity=10)]


def integration(stack, token: str) -> httpx.Client:
    return httpx.Client(base_url=stack.url("integration"), headers=bearer(token), timeout=30)


def stock(stack, product_id: int, *, expect: int | None = None) -> int:
    """Available units; with ``expect``, waits (up to 20 s) for them to get there: the order service
    cancels first and releases the stock right after, so the two are not visible at one instant."""
    return eventually(
        lambda: httpx.get(f"{stack.url('product')}/products/{product_id}/").json()["available"],
        lambda available: expect is None or available == expect,
    )


def cart_items(stack, token: str) -> list:
    return httpx.get(f"{stack.url('cart')}/api/cart/", headers=bearer(token)).json()["items"]


def test_1_signup_to_paid_order_with_stock_committed_and_an_empty_cart(
    stack, shopper, two_products, token_of
):
    shop = integration(stack, shopper)
    listed = httpx.get(f"{stack.url('product')}/products/", params={"page_size": 100}).json()[
        "results"
    ]
    assert {p["id"] for p in two_products} <= {p["id"] for p in listed}
    first, second = two_products
    shop.post("/cart/add/", json={"product_id": first["id"], "quantity": 2})
    shop.post("/api/cart/add/", json={"product_id": second["id"], "quantity": 1})

    response = shop.post("/checkout/", json={"shipping_address": ADDRESS})

    assert response.status_code == 201, response.text
    order, payment = response.json()["order"], response.json()["payment"]
    assert order["total_amount"] == "47.26"  # 34.50 + 2.76 tax + 10.00 shipping
    assert order["cart_cleared"] is True
    assert payment["amount"] == "47.26"
    assert httpx.post(f"{payment['checkout_url']}/pay").status_code == 303
    assert wait_for_order_status(stack, shopper, order["id"], "PAID")["status"] == "PAID"
    staff = bearer(token_of("STAFF"))
    committed = httpx.get(f"{stack.url('product')}/products/{first['id']}/", headers=staff).json()
    assert (committed["quantity"], committed["available"]) == (8, 8)
    assert cart_items(stack, shopper) == []
    history = httpx.get(f"{stack.url('order')}/orders/history/", headers=bearer(shopper)).json()
    assert [o["id"] for o in history["results"]] == [order["id"]]
    track = httpx.get(
        f"{stack.url('order')}/orders/{order['id']}/track/", headers=bearer(shopper)
    ).json()
    assert [step["status"] for step in track["status_history"]] == ["PENDING", "PAID"]


def test_2_a_declined_payment_cancels_the_order_and_releases_the_stock(
    stack, shopper, two_products
):
    shop = integration(stack, shopper)
    product = two_products[0]
    shop.post("/cart/add/", json={"product_id": product["id"], "quantity": 3})
    body = shop.post("/checkout/", json={"shipping_address": ADDRESS}).json()
    assert stock(stack, product["id"]) == 7

    httpx.post(f"{body['payment']['checkout_url']}/decline")

    assert (
        wait_for_order_status(stack, shopper, body["order"]["id"], "CANCELLED")["status"]
        == "CANCELLED"
    )
    assert stock(stack, product["id"], expect=10) == 10


def test_3_out_of_stock_at_placement_is_a_409_and_leaves_the_cart_alone(
    stack, shopper, two_products, token_of
):
    shop = integration(stack, shopper)
    product = two_products[1]
    shop.post("/cart/add/", json={"product_id": product["id"], "quantity": 5})
    # Someone else buys most of it meanwhile.
    staff = httpx.Client(base_url=stack.url("product"), headers=bearer(token_of("STAFF")))
    staff.patch(f"/products/{product['id']}/", json={"quantity": 2})

    response = shop.post("/orders/place/", json={"shipping_address": ADDRESS})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "out_of_stock"
    assert [(line["product_id"], line["quantity"]) for line in cart_items(stack, shopper)] == [
        (product["id"], 5)
    ]
    assert (
        httpx.get(f"{stack.url('order')}/orders/history/", headers=bearer(shopper)).json()["count"]
        == 0
    )


def test_4_with_the_user_service_stopped_every_service_answers_503_quickly_then_recovers(
    stack, shopper
):
    calls = [
        ("product", "POST", "/products/"),
        ("cart", "GET", "/api/cart/"),
        ("order", "GET", "/orders/history/"),
        ("payment", "GET", "/payments/"),
        ("integration", "POST", "/payment/initiate/"),
    ]
    stack.processes["user"].stop()
    try:
        for service, method, path in calls:
            started = time.monotonic()
            response = httpx.request(
                method, f"{stack.url(service)}{path}", headers=bearer(shopper), json={}, timeout=10
            )
            assert response.status_code == 503, (service, response.text)
            assert response.json()["error"]["details"]["service"] == "user"
            assert time.monotonic() - started < 2, service
    finally:
        stack.processes["user"].start()
        stack.processes["user"].wait_until_healthy()
    assert httpx.get(f"{stack.url('cart')}/api/cart/", headers=bearer(shopper)).status_code == 200


def test_5_payment_service_down_at_checkout_leaves_a_pending_order_paid_later(
    stack, shopper, two_products
):
    shop = integration(stack, shopper)
    shop.post("/cart/add/", json={"product_id": two_products[0]["id"], "quantity": 1})
    stack.processes["payment"].stop()
    try:
        response = shop.post("/checkout/", json={"shipping_address": ADDRESS})
    finally:
        stack.processes["payment"].start()
        stack.processes["payment"].wait_until_healthy()

    assert response.status_code == 201
    body = response.json()
    assert body["order"]["status"] == "PENDING"
    assert body["payment"] is None
    assert body["payment_error"]["status"] == 503
    assert body["payment_error"]["error"]["details"]["service"] == "payment"
    later = shop.post("/payment/initiate/", json={})
    assert later.status_code == 201
    assert later.json()["order_id"] == body["order"]["id"]


def test_6_the_same_checkout_sent_twice_with_one_key_makes_one_order_and_one_payment(
    stack, shopper, two_products
):
    shop = integration(stack, shopper)
    shop.post("/cart/add/", json={"product_id": two_products[1]["id"], "quantity": 2})
    key = {"Idempotency-Key": f"checkout-{uuid.uuid4().hex}"}

    first = shop.post("/checkout/", json={"shipping_address": ADDRESS}, headers=key)
    second = shop.post("/checkout/", json={"shipping_address": ADDRESS}, headers=key)

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert (
        httpx.get(f"{stack.url('order')}/orders/history/", headers=bearer(shopper)).json()["count"]
        == 1
    )
    payments = httpx.get(f"{stack.url('payment')}/payments/", headers=bearer(shopper)).json()
    assert payments["count"] == 1


def test_an_empty_cart_cannot_be_placed(stack, shopper):
    response = integration(stack, shopper).post(
        "/orders/place/", json={"shipping_address": ADDRESS}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cart_empty"


@pytest.mark.parametrize("path", ["/checkout/", "/payment/initiate/"])
def test_a_gateway_the_shop_does_not_offer_is_refused_before_anything_is_placed(
    stack, shopper, new_product, path
):
    product = new_product(quantity=5)
    shop = integration(stack, shopper)
    shop.post("/cart/add/", json={"product_id": product["id"], "quantity": 2})

    response = shop.post(path, json={"shipping_address": ADDRESS, "gateway": "paypal"})

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]) == (
        "gateway_not_available",
        {"gateway": "paypal", "available": ["stripe", "razorpay"]},
    )
    history = httpx.get(f"{stack.url('order')}/orders/history/", headers=bearer(shopper)).json()
    assert history["count"] == 0
    assert stock(stack, product["id"]) == 5
    assert [(line["product_id"], line["quantity"]) for line in cart_items(stack, shopper)] == [
        (product["id"], 2)
    ]
