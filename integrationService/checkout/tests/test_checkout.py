"""The integration service against fakes of the cart, order and payment services (HTTP level): what
it forwards, what it passes through, and how it stays consistent when a step fails."""

import json

import httpx
import pytest
from rest_framework.test import APIClient

from checkout.models import IdempotencyRecord
from shop_common.testing.data import ADDRESS

pytestmark = pytest.mark.django_db

CART = {
    "id": 5,
    "items": [{"id": 1, "product_id": 7, "quantity": 2}, {"id": 2, "product_id": 9, "quantity": 1}],
}
ORDER = {"id": 31, "order_number": "ORD-ABC", "status": "PENDING", "total_amount": "30.00"}
PAYMENT = {
    "payment_id": 4,
    "order_id": 31,
    "status": "PENDING",
    "checkout_url": "http://sandbox/pay/cs_test_1",
}


@pytest.fixture
def token(user_service):
    return user_service.token_for("CUSTOMER", user_id=41)


@pytest.fixture
def shop(token):
    client = APIClient()
    client.default_format = "json"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def services(http_mock, settings, user_service):
    """Routes of the three services, answering the happy path unless a test says otherwise."""
    urls = settings.SERVICE_URLS

    class Routes:
        cart = http_mock.get(f"{urls['cart']}/api/cart/").respond(200, json=CART)
        add = http_mock.post(f"{urls['cart']}/api/cart/add/").respond(200, json=CART)
        clear = http_mock.post(f"{urls['cart']}/api/cart/clear/").respond(
            200, json={**CART, "items": []}
        )
        place = http_mock.post(f"{urls['order']}/orders/").respond(201, json=ORDER)
        history = http_mock.get(f"{urls['order']}/orders/history/").respond(
            200, json={"count": 1, "results": [ORDER]}
        )
        pay = http_mock.post(f"{urls['payment']}/service/").respond(201, json=PAYMENT)

    return Routes


def test_add_to_cart_forwards_the_callers_token_and_request_id(shop, services, token):
    response = shop.post("/cart/add/", {"product_id": 7, "quantity": 2}, HTTP_X_REQUEST_ID="req-42")

    assert response.status_code == 200
    sent = services.add.calls.last.request
    assert sent.headers["Authorization"] == f"Bearer {token}"
    assert sent.headers["X-Request-ID"] == "req-42"
    assert json.loads(sent.content) == {"product_id": 7, "quantity": 2}


def test_place_order_sends_the_carts_lines_then_empties_the_cart(shop, services):
    response = shop.post("/orders/place/", {"shipping_address": ADDRESS})

    assert response.status_code == 201
    assert response.json() == {**ORDER, "cart_cleared": True}
    sent = json.loads(services.place.calls.last.request.content)
    assert sent["items"] == [{"product_id": 7, "quantity": 2}, {"product_id": 9, "quantity": 1}]
    assert sent["shipping_address"]["city"] == "Springfield"
    assert services.place.calls.last.request.headers["Idempotency-Key"].startswith("cart-")
    assert services.clear.call_count == 1


def test_an_empty_cart_is_a_400_and_no_order(shop, services):
    services.cart.respond(200, json={"id": 5, "items": []})

    response = shop.post("/orders/place/", {"shipping_address": ADDRESS})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cart_empty"
    assert services.place.call_count == 0


def test_an_order_refusal_passes_through_and_the_cart_is_untouched(shop, services):
    refusal = {
        "error": {
            "code": "out_of_stock",
            "message": "short",
            "details": {"lines": [{"product_id": 7}]},
        }
    }
    services.place.respond(409, json=refusal)

    response = shop.post("/orders/place/", {"shipping_address": ADDRESS})

    assert response.status_code == 409
    assert response.json() == refusal
    assert services.clear.call_count == 0


def test_a_failed_cart_clear_keeps_the_order_says_so_and_a_retry_places_nothing_new(shop, services):
    services.clear.mock(side_effect=httpx.ConnectError("cart down"))

    first = shop.post("/orders/place/", {"shipping_address": ADDRESS})
    second = shop.post("/orders/place/", {"shipping_address": ADDRESS})

    assert first.status_code == 201
    assert first.json()["cart_cleared"] is False
    keys = {call.request.headers["Idempotency-Key"] for call in services.place.calls}
    assert len(keys) == 1, (
        "the same cart placed again carries the same key: the order service answers the same order"
    )
    assert second.json()["id"] == ORDER["id"]


def test_a_service_that_is_down_is_a_503_naming_it(shop, services):
    services.cart.mock(side_effect=httpx.ConnectError("refused"))

    response = shop.post("/orders/place/", {"shipping_address": ADDRESS})

    assert response.status_code == 503
    assert response.json()["error"]["details"]["service"] == "cart"


def test_checkout_places_and_pays_in_one_call(shop, services):
    response = shop.post("/checkout/", {"shipping_address": ADDRESS})

    assert response.status_code == 201
    assert response.json() == {"order": {**ORDER, "cart_cleared": True}, "payment": PAYMENT}
    assert json.loads(services.pay.calls.last.request.content) == {"order_id": 31}


def test_checkout_with_the_payment_service_down_keeps_the_pending_order(shop, services):
    services.pay.mock(side_effect=httpx.ConnectError("payment down"))

    response = shop.post("/checkout/", {"shipping_address": ADDRESS})

    assert response.status_code == 201
    body = response.json()
    assert body["order"]["status"] == "PENDING"
    assert body["payment"] is None
    assert body["payment_error"]["status"] == 503
    assert body["payment_error"]["error"]["details"]["service"] == "payment"


def test_initiate_without_an_order_id_pays_the_newest_pending_order(shop, services):
    response = shop.post("/payment/initiate/", {})

    assert response.status_code == 201
    assert services.history.calls.last.request.url.params["status"] == "PENDING"
    assert json.loads(services.pay.calls.last.request.content) == {"order_id": 31}


def test_checkout_passes_the_chosen_gateway_to_the_payment_not_to_the_order(shop, services):
    response = shop.post("/checkout/", {"shipping_address": ADDRESS, "gateway": "razorpay"})

    assert response.status_code == 201
    assert json.loads(services.pay.calls.last.request.content) == {
        "order_id": 31,
        "gateway": "razorpay",
    }
    assert "gateway" not in json.loads(services.place.calls.last.request.content)


def test_initiate_passes_the_payment_services_refusal_of_a_gateway_through(
    shop, services, settings
):
    settings.PAYMENT_GATEWAYS = ["stripe", "razorpay"]
    refusal = {
        "error": {
            "code": "gateway_not_available",
            "message": "The gateway 'razorpay' is not available here; choose one of stripe.",
            "details": {"gateway": "razorpay", "available": ["stripe"]},
        }
    }
    services.pay.respond(400, json=refusal)

    response = shop.post("/payment/initiate/", {"order_id": 31, "gateway": "razorpay"})

    assert json.loads(services.pay.calls.last.request.content) == {
        "order_id": 31,
        "gateway": "razorpay",
    }
    assert response.status_code == 400
    assert response.json() == refusal


@pytest.mark.parametrize("path", ["/checkout/", "/payment/initiate/"])
def test_a_gateway_the_shop_does_not_offer_is_a_400_before_any_call(shop, services, settings, path):
    settings.PAYMENT_GATEWAYS = ["stripe", "razorpay"]

    response = shop.post(path, {"shipping_address": ADDRESS, "gateway": "paypal"})

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "gateway_not_available",
        "message": "The gateway 'paypal' is not available here; choose one of stripe, razorpay.",
        "details": {"gateway": "paypal", "available": ["stripe", "razorpay"]},
    }
    assert [route.call_count for route in (services.cart, services.place, services.pay)] == [0] * 3


def test_initiate_without_any_pending_order_is_a_404(shop, services):
    services.history.respond(200, json={"count": 0, "results": []})

    response = shop.post("/api/payment/initiate/", {})

    assert response.status_code == 404
    assert services.pay.call_count == 0


def test_the_same_key_and_body_get_the_first_answer(shop, services):
    key = {"HTTP_IDEMPOTENCY_KEY": "chk-1"}

    first = shop.post("/checkout/", {"shipping_address": ADDRESS}, **key)
    second = shop.post("/api/checkout/", {"shipping_address": ADDRESS}, **key)

    assert first.json() == second.json()
    assert services.place.call_count == 1
    assert services.pay.call_count == 1
    assert IdempotencyRecord.objects.get().status_code == 201


def test_the_same_key_with_another_body_is_a_422(shop, services):
    shop.post("/orders/place/", {"shipping_address": ADDRESS}, HTTP_IDEMPOTENCY_KEY="k")

    response = shop.post(
        "/orders/place/",
        {"shipping_address": {**ADDRESS, "city": "Elsewhere"}},
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_a_clients_key_is_passed_to_the_order_service(shop, services):
    shop.post(
        "/api/orders/place/", {"shipping_address": ADDRESS}, HTTP_IDEMPOTENCY_KEY="client-key-9"
    )

    assert services.place.calls.last.request.headers["Idempotency-Key"] == "client-key-9"


@pytest.mark.parametrize(
    "path", ["/cart/add/", "/orders/place/", "/payment/initiate/", "/checkout/"]
)
def test_anonymous_callers_get_401(api_client, user_service, path):
    assert api_client.post(path, {}, format="json").status_code == 401


def test_a_bad_address_is_a_400_before_any_call(shop, services):
    response = shop.post("/checkout/", {"shipping_address": {"city": "x"}})

    assert response.status_code == 400
    assert services.cart.call_count == 0


def test_the_same_products_bought_again_after_the_cart_emptied_are_a_new_order(shop, services):
    shop.post("/orders/place/", {"shipping_address": ADDRESS})
    refilled = {
        "id": 5,
        "items": [
            {"id": 3, "product_id": 7, "quantity": 2},
            {"id": 4, "product_id": 9, "quantity": 1},
        ],
    }
    services.cart.respond(200, json=refilled)

    shop.post("/orders/place/", {"shipping_address": ADDRESS})

    keys = [call.request.headers["Idempotency-Key"] for call in services.place.calls]
    assert len(set(keys)) == 2
