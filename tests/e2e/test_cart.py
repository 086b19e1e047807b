"""A customer builds a cart over real HTTP: cart service → product service (service token) and
→ user service (the customer's token), all under the server."""

from decimal import Decimal

import httpx
import pytest


@pytest.fixture
def customer_cart(stack, token_of):
    client = httpx.Client(
        base_url=stack.url("cart"),
        headers={"Authorization": f"Bearer {token_of('CUSTOMER')}"},
        timeout=15,
    )
    client.post("/api/cart/clear/")
    yield client
    client.post("/api/cart/clear/")


def demo_products(stack, count: int) -> list[dict]:
    listed = httpx.get(
        f"{stack.url('product')}/products/", params={"ordering": "price", "in_stock": "true"}
    )
    return listed.json()["results"][:count]


def test_a_customer_builds_a_cart_with_live_totals(stack, customer_cart):
    cheap, dear = demo_products(stack, 2)

    customer_cart.post(
        "/api/cart/add/", json={"product_id": cheap["id"], "quantity": 2, "price": "0.01"}
    )
    added = customer_cart.post("/api/cart/add/", json={"product_id": dear["id"]})
    item = next(line for line in added.json()["items"] if line["product_id"] == dear["id"])
    updated = customer_cart.post(f"/api/cart/update/{item['id']}/", json={"quantity": 3})

    assert updated.status_code == 200
    body = updated.json()
    expected = Decimal(cheap["price"]) * 2 + Decimal(dear["price"]) * 3
    assert body["total"] == str(expected.quantize(Decimal("0.01")))
    assert [line["unit_price"] for line in body["items"]] == [cheap["price"], dear["price"]]
    assert customer_cart.get("/api/cart/").json() == body


def test_another_customer_cannot_touch_the_line(stack, customer_cart, token_of):
    (product,) = demo_products(stack, 1)
    item = customer_cart.post("/api/cart/add/", json={"product_id": product["id"]}).json()["items"][
        0
    ]
    admin = {"Authorization": f"Bearer {token_of('ADMIN')}"}

    response = httpx.delete(f"{stack.url('cart')}/api/cart/remove/{item['id']}/", headers=admin)

    assert response.status_code == 404
    assert len(customer_cart.get("/api/cart/").json()["items"]) == 1


def test_more_than_the_stock_is_refused_with_insufficient_stock(stack, customer_cart):
    (product,) = demo_products(stack, 1)  # demo stock is 5 to 44, under the 99-per-line maximum

    response = customer_cart.post(
        "/api/cart/add/", json={"product_id": product["id"], "quantity": product["available"] + 1}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_stock"
