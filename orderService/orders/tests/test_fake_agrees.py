"""The payment service's tests run against FakeOrderService (shop_common.testing.fakes). The same
payment outcomes and refunds, sent to the fake and to this service's real internal API, must give the same
answers and leave the order in the same state; a rule changed on one side only fails here."""

import httpx
import pytest
from rest_framework.test import APIClient

from shop_common.testing.data import ADDRESS
from shop_common.testing.fakes import FakeOrderService

pytestmark = pytest.mark.django_db

FAKE_URL = "http://fake-order.test"

SCENARIOS = {
    "paid": [("succeeded", "pay_1")],
    "paid twice with one payment": [("succeeded", "pay_1"), ("succeeded", "pay_1")],
    "paid by a second payment": [("succeeded", "pay_1"), ("succeeded", "pay_2")],
    "failed": [("failed", "pay_1")],
    "failed twice": [("failed", "pay_1"), ("failed", "pay_1")],
    "paid after it failed": [("failed", "pay_1"), ("succeeded", "pay_2")],
    "paid by the payment that failed": [("failed", "pay_1"), ("succeeded", "pay_1")],
    "failed after it was paid": [("succeeded", "pay_1"), ("failed", "pay_1")],
    "refunded after it was paid": [("succeeded", "pay_1"), ("refunded", "pay_1")],
    "refunded twice": [("succeeded", "pay_1"), ("refunded", "pay_1"), ("refunded", "pay_1")],
    "refunded for another payment": [("succeeded", "pay_1"), ("refunded", "pay_2")],
    "refunded before it was paid": [("refunded", "pay_1")],
    "refunded after it failed": [("failed", "pay_1"), ("refunded", "pay_1")],
    "paid after it was refunded": [
        ("succeeded", "pay_1"),
        ("refunded", "pay_1"),
        ("succeeded", "pay_1"),
    ],
}
PATHS = {
    "succeeded": "/internal/orders/{}/payment-succeeded/",
    "failed": "/internal/orders/{}/payment-failed/",
    "refunded": "/internal/orders/{}/refunded/",
}


def outcome(response) -> tuple:
    """What the payment service can tell from an answer: status, and the error code or whether
    the outcome changed the order."""
    body = response.json()
    return response.status_code, body["error"]["code"] if "error" in body else body["changed"]


def state(order: dict) -> tuple:
    return order["status"], order["payment_reference"], order["needs_refund"]


@pytest.fixture
def real(api_client, user_service, product_service):
    """The real internal API, called as the payment service, and a new PENDING order of it."""
    kettle = product_service.add(price="20.00", available=5)
    customer = APIClient()
    customer.credentials(HTTP_AUTHORIZATION=f"Bearer {user_service.token_for(user_id=41)}")
    body = {"items": [{"product_id": kettle, "quantity": 2}], "shipping_address": ADDRESS}
    order_id = customer.post("/orders/", body, format="json").json()["id"]
    token = user_service.service_token("internal", client_id="shop-payment")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    api_client.default_format = "json"
    return api_client, order_id


@pytest.fixture
def fake(http_mock, user_service):
    """The fake, at a URL of its own, with a new PENDING order."""
    orders = FakeOrderService(http_mock, FAKE_URL, user_service)
    order_id = orders.add(user_id=41)
    token = user_service.service_token("internal", client_id="shop-payment")
    client = httpx.Client(base_url=FAKE_URL, headers={"Authorization": f"Bearer {token}"})
    return client, order_id


@pytest.mark.parametrize("steps", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_fake_order_service_answers_payment_outcomes_as_the_real_one(real, fake, steps):
    real_client, real_id = real
    fake_client, fake_id = fake
    for result, reference in steps:
        path = PATHS[result]
        body = {"payment_reference": reference}

        real_answer = real_client.post(path.format(real_id), body)
        fake_answer = fake_client.post(path.format(fake_id), json=body)

        assert outcome(fake_answer) == outcome(real_answer), (result, reference)
        real_order = real_client.get(f"/internal/orders/{real_id}/").json()
        fake_order = fake_client.get(f"/internal/orders/{fake_id}/").json()
        assert state(fake_order) == state(real_order), (result, reference)
