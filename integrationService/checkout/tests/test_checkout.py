"""The integration service against fakes of the cart, order and payment services (HTTP level): what
it forwards, what it passes through, and how it stays consistent when a step fails."""

import json

import httpx
import pytest
from rest_framework.test import APIClient

from checkout.models import IdempotencyRecord
from checkout.services import CART_COMPLETION_RESERVE_SECONDS
from shop_common.deadlines import HEADER, parse_deadline
from shop_common.testing.data import ADDRESS

pytestmark = pytest.mark.django_db

CART = {
    "id": 5,
    "items": [{"id": 1, "product_id": 7, "quantity": 2}, {"id": 2, "product_id": 9, "quantity": 1}],
}
LINES = CART["items"]
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


def placed(request: httpx.Request) -> httpx.Response:
    """The order service's answer: with ``payment`` asked for, the payment it started beside it."""
    asked = "payment" in json.loads(request.content)
    return httpx.Response(201, json={**ORDER, **({"payment": PAYMENT} if asked else {})})


class FakeCartCheckout:
    """The cart service's checkout of one cart, as carts.services keeps it: the first key sticks
    until the order is placed (complete) or refused (cancel)."""

    def __init__(self) -> None:
        self.lines = list(LINES)
        self.key: str | None = None
        self.order: tuple[int, str] | None = None
        self.under_way = False

    def answer(self) -> httpx.Response:
        order_id, number = self.order or (None, "")
        return httpx.Response(
            200,
            json={
                "key": self.key,
                "order_id": order_id,
                "order_number": number,
                "under_way": self.under_way,
                "items": self.lines,
            },
        )

    def begin(self, request: httpx.Request) -> httpx.Response:
        if self.key is None and self.lines:
            self.key = json.loads(request.content)["key"]
        return self.answer()

    def complete(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.key, self.order, self.lines = body["key"], (body["order_id"], body["order_number"]), []
        return self.answer()

    def cancel(self, request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["key"] == self.key and self.order is None:
            self.key = None
        return self.answer()


@pytest.fixture
def services(http_mock, settings, user_service):
    """Routes of the three services, answering the happy path unless a test says otherwise."""
    urls = settings.SERVICE_URLS
    cart = FakeCartCheckout()

    class Routes:
        checkout = cart
        begin = http_mock.post(f"{urls['cart']}/api/cart/checkout/").mock(side_effect=cart.begin)
        complete = http_mock.post(f"{urls['cart']}/api/cart/checkout/complete/").mock(
            side_effect=cart.complete
        )
        cancel = http_mock.post(f"{urls['cart']}/api/cart/checkout/cancel/").mock(
            side_effect=cart.cancel
        )
        add = http_mock.post(f"{urls['cart']}/api/cart/add/").respond(200, json=CART)
        place = http_mock.post(f"{urls['order']}/orders/").mock(side_effect=placed)
        order = http_mock.get(f"{urls['order']}/orders/31/").respond(200, json=ORDER)
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
    key = json.loads(services.begin.calls.last.request.content)["key"]
    assert key.startswith("cart-")
    assert services.place.calls.last.request.headers["Idempotency-Key"] == key
    assert json.loads(services.complete.calls.last.request.content) == {
        "key": key,
        "order_id": 31,
        "order_number": "ORD-ABC",
    }


def test_an_empty_cart_is_a_400_and_no_order(shop, services):
    services.checkout.lines = []

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
    assert services.complete.call_count == 0
    assert services.cancel.call_count == 1, "a refused order ends the checkout: the next is new"
    assert services.checkout.key is None


def test_a_failed_cart_clear_keeps_the_order_says_so_and_a_retry_places_nothing_new(shop, services):
    services.complete.mock(side_effect=httpx.ConnectError("cart down"))

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
    services.begin.mock(side_effect=httpx.ConnectError("refused"))

    response = shop.post("/orders/place/", {"shipping_address": ADDRESS})

    assert response.status_code == 503
    assert response.json()["error"]["details"]["service"] == "cart"


def test_checkout_places_and_pays_in_one_call_to_the_order_service(shop, services):
    response = shop.post("/checkout/", {"shipping_address": ADDRESS})

    assert response.status_code == 201
    assert response.json() == {"order": {**ORDER, "cart_cleared": True}, "payment": PAYMENT}
    assert json.loads(services.place.calls.last.request.content)["payment"] == {}
    # The payment service is not asked by this service: the order service started the payment.
    assert services.pay.call_count == 0


def test_the_placement_leaves_part_of_the_budget_for_emptying_the_cart(shop, services):
    """A payment start that took the whole budget left the cart holding lines that had become the
    order, and the customer's next checkout was refused as that order's."""
    shop.post("/checkout/", {"shipping_address": ADDRESS})

    def deadline(route) -> float:
        return parse_deadline(route.calls.last.request.headers[HEADER])

    reserve = deadline(services.complete) - deadline(services.place)
    # The complete call is sent later than the placement: its deadline can only be the later one.
    assert reserve >= CART_COMPLETION_RESERVE_SECONDS - 0.001


def test_checkout_with_the_payment_service_down_keeps_the_pending_order(shop, services):
    down = {
        "status": 503,
        "error": {
            "code": "dependency_unavailable",
            "message": "The payment service is unavailable; try again shortly.",
            "details": {"service": "payment"},
        },
    }
    services.place.respond(201, json={**ORDER, "payment": None, "payment_error": down})

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
    sent = json.loads(services.place.calls.last.request.content)
    assert sent["payment"] == {"gateway": "razorpay"}
    assert "gateway" not in sent


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
    assert [route.call_count for route in (services.begin, services.place, services.pay)] == [0] * 3


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
    assert first.json()["payment"] == PAYMENT
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
    assert services.begin.call_count == 0


def test_the_same_products_bought_again_after_the_cart_emptied_are_a_new_order(shop, services):
    shop.post("/orders/place/", {"shipping_address": ADDRESS})
    services.checkout.lines = [
        {"id": 3, "product_id": 7, "quantity": 2},
        {"id": 4, "product_id": 9, "quantity": 1},
    ]
    services.checkout.key = services.checkout.order = None  # what adding to it does

    shop.post("/orders/place/", {"shipping_address": ADDRESS})

    keys = [call.request.headers["Idempotency-Key"] for call in services.place.calls]
    assert len(set(keys)) == 2


def test_every_checkout_of_one_cart_places_under_the_carts_key(shop, services):
    """A second checkout with its own key after the first ended without emptying the cart (its
    order placed, the cart unreachable): one key at the order service, so one order."""
    services.complete.mock(side_effect=httpx.ConnectError("cart down"))

    shop.post("/checkout/", {"shipping_address": ADDRESS}, HTTP_IDEMPOTENCY_KEY="tab-1")
    shop.post("/checkout/", {"shipping_address": ADDRESS}, HTTP_IDEMPOTENCY_KEY="tab-2")

    assert [call.request.headers["Idempotency-Key"] for call in services.place.calls] == [
        "tab-1",
        "tab-1",
    ]


def test_a_checkout_while_another_is_placing_the_carts_order_is_a_409_and_places_nothing(
    shop, services
):
    services.checkout.key, services.checkout.under_way = "tab-1", True

    response = shop.post("/checkout/", {"shipping_address": ADDRESS}, HTTP_IDEMPOTENCY_KEY="tab-2")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cart_checkout_in_progress"
    assert services.place.call_count == 0


def test_the_same_key_again_while_its_checkout_is_under_way_places_under_it(shop, services):
    services.checkout.key, services.checkout.under_way = "tab-1", True

    response = shop.post("/checkout/", {"shipping_address": ADDRESS}, HTTP_IDEMPOTENCY_KEY="tab-1")

    assert response.status_code == 201
    assert services.place.calls.last.request.headers["Idempotency-Key"] == "tab-1"


def test_a_checkout_after_the_carts_order_was_placed_is_a_409_naming_it(shop, services):
    shop.post("/checkout/", {"shipping_address": ADDRESS}, HTTP_IDEMPOTENCY_KEY="tab-1")

    response = shop.post("/checkout/", {"shipping_address": ADDRESS}, HTTP_IDEMPOTENCY_KEY="tab-2")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cart_checked_out"
    assert response.json()["error"]["details"] == {"order_id": 31, "order_number": "ORD-ABC"}
    assert services.place.call_count == 1


def test_the_order_service_refusing_another_body_under_the_carts_key_is_a_409_naming_it(
    shop, services
):
    services.place.respond(
        422,
        json={
            "error": {
                "code": "idempotency_key_reused",
                "message": "another body",
                "details": {"order_id": 31},
            }
        },
    )

    response = shop.post("/checkout/", {"shipping_address": ADDRESS})

    assert response.status_code == 409
    assert response.json()["error"]["details"]["order_id"] == 31
    assert services.cancel.call_count == 0, "the order stands: the checkout is not ended"


def test_a_retry_whose_first_answer_was_lost_answers_the_order_it_placed(shop, services):
    """The first call placed the order, emptied the cart and started the payment, and its answer
    was never stored (the integration database failed, or the process died)."""
    key = {"HTTP_IDEMPOTENCY_KEY": "chk-lost"}
    shop.post("/checkout/", {"shipping_address": ADDRESS}, **key)
    IdempotencyRecord.objects.all().delete()

    retry = shop.post("/checkout/", {"shipping_address": ADDRESS}, **key)

    assert retry.status_code == 201
    assert retry.json() == {"order": {**ORDER, "cart_cleared": True}, "payment": PAYMENT}
    assert services.place.call_count == 1
    assert services.order.call_count == 1
    # Found through the cart, without its payment: asked for (the open one) as initiation does.
    assert json.loads(services.pay.calls.last.request.content) == {"order_id": 31}


def test_a_retry_after_the_order_service_lost_its_answer_finds_the_order(shop, services):
    services.place.mock(
        side_effect=[
            httpx.Response(503, json={"error": {"code": "dependency_unavailable"}}),
            httpx.Response(200, json=ORDER),
        ]
    )
    key = {"HTTP_IDEMPOTENCY_KEY": "chk-503"}

    first = shop.post("/orders/place/", {"shipping_address": ADDRESS}, **key)
    retry = shop.post("/orders/place/", {"shipping_address": ADDRESS}, **key)

    assert first.status_code == 503
    assert services.cancel.call_count == 0, "a 503 may hide a placed order: the checkout stays"
    assert retry.status_code == 201
    assert retry.json()["id"] == 31
    assert [call.request.headers["Idempotency-Key"] for call in services.place.calls] == [
        "chk-503",
        "chk-503",
    ]
