"""The order service's tests run against FakePaymentService (shop_common.testing.fakes). The same
starts of an order's payment, sent to the fake and to this service's real internal API, must give
the same answers; a rule changed on one side only fails here."""

import httpx
import pytest
from rest_framework.test import APIClient

from shop_common.testing.fakes import FakePaymentService

pytestmark = pytest.mark.django_db

FAKE_URL = "http://fake-payment.test"
GATEWAYS = ["stripe", "razorpay"]
ORDER = {
    "order_id": 5,
    "order_number": "ORD-AGREES00001",
    "user_id": 41,
    "status": "PENDING",
    "total_amount": "25.50",
    "currency": "USD",
}

SCENARIOS = {
    "started": [{}],
    "started twice": [{}, {}],
    "started twice with the gateway named": [{}, {"gateway": "stripe"}],
    "a gateway not offered": [{"gateway": "paypal"}],
    "an order no longer pending": [{"status": "PAID"}],
    "paid after its payment was started": [{}, {"status": "PAID"}],
    "another gateway while one is open": [{}, {"gateway": "razorpay"}],
}


def outcome(response) -> tuple:
    """Status, then the error code, or the payment as the order service reads it."""
    body = response.json()
    if "error" in body:
        return response.status_code, body["error"]["code"]
    facts = ("order_id", "status", "gateway", "amount", "currency")
    return response.status_code, {name: body[name] for name in facts}, bool(body["checkout_url"])


@pytest.fixture
def real(api_client, user_service, sandbox, razorpay_sandbox, settings):
    settings.PAYMENT_GATEWAYS = GATEWAYS
    token = user_service.service_token("internal", client_id="shop-order")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    api_client.default_format = "json"
    return api_client


@pytest.fixture
def fake(http_mock, user_service) -> httpx.Client:
    FakePaymentService(http_mock, FAKE_URL, user_service).gateways = GATEWAYS
    token = user_service.service_token("internal", client_id="shop-order")
    return httpx.Client(base_url=FAKE_URL, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("steps", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_fake_payment_service_starts_payments_as_the_real_one(
    real: APIClient, fake: httpx.Client, steps
):
    for changes in steps:
        body = {**ORDER, **changes}
        assert outcome(fake.post("/internal/payments/", json=body)) == outcome(
            real.post("/internal/payments/", body)
        ), changes
