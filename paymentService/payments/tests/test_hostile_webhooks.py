"""Signed webhook bodies are still hostile input: read with the JSON limits of every endpoint
before a gateway looks at them (a body nested 500 deep, a top-level array: 400, recorded as
rejected, never a 500), and dated within the tolerance on both sides (an event signed for three
days or a month ahead is refused like a stale one)."""

import json
import time

import pytest
from razorpay_sandbox.app import sign as razorpay_sign
from rest_framework.test import APIClient
from stripe_sandbox.app import sign as stripe_sign

from payments.models import Payment, PaymentStatus, WebhookEvent
from payments.tests.support import committed

pytestmark = pytest.mark.django_db

STRIPE_SECRET = "whsec_test_suite_only"  # config/settings_test.py
RAZORPAY_SECRET = "razorpay_test_suite_only"
DAY = 24 * 3600


@pytest.fixture(params=["stripe", "razorpay"])
def payment(request, customer, order_id, sandbox, razorpay_sandbox):
    answer = customer.post("/service/", {"order_id": order_id, "gateway": request.param}).json()
    return Payment.objects.get(pk=answer["payment_id"])


def paid_event(payment: Payment, *, at: int | None = None) -> dict:
    """The event each provider sends when the payment is paid, dated ``at`` (now by default)."""
    at = int(time.time()) if at is None else at
    cents = int(payment.amount * 100)
    if payment.gateway == "stripe":
        return {
            "id": f"evt_paid_{payment.pk}_{time.monotonic_ns()}",
            "object": "event",
            "type": "checkout.session.completed",
            "created": at,
            "data": {
                "object": {
                    "id": payment.provider_reference,
                    "object": "checkout.session",
                    "amount_total": cents,
                    "currency": "usd",
                    "payment_status": "paid",
                    "status": "complete",
                    "metadata": {"payment_id": str(payment.pk)},
                }
            },
        }
    return {
        "entity": "event",
        "event": "payment_link.paid",
        "contains": ["payment_link", "payment"],
        "payload": {
            "payment_link": {
                "entity": {
                    "id": payment.provider_reference,
                    "amount": cents,
                    "amount_paid": cents,
                    "currency": "USD",
                    "status": "paid",
                    "notes": {"payment_id": str(payment.pk)},
                }
            },
            "payment": {"entity": {"id": "pay_hostile1", "amount": cents}},
        },
        "created_at": at,
    }


def deliver(payment: Payment, payload: bytes, *, signed_at: int | None = None):
    """``payload`` signed as the payment's provider signs (its real scheme, as the sandboxes)."""
    if payment.gateway == "stripe":
        headers = {"HTTP_STRIPE_SIGNATURE": stripe_sign(payload, STRIPE_SECRET, signed_at)}
    else:
        headers = {
            "HTTP_X_RAZORPAY_SIGNATURE": razorpay_sign(payload, RAZORPAY_SECRET),
            "HTTP_X_RAZORPAY_EVENT_ID": "evt_hostile_1",
        }
    with committed():
        return APIClient().post(
            f"/webhook/{payment.gateway}/", data=payload, content_type="application/json", **headers
        )


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def deeply_nested(payment: Payment) -> bytes:
    event = paid_event(payment)
    where = event["data"]["object"] if payment.gateway == "stripe" else event["payload"]
    where["extra"] = nested(500)
    return json.dumps(event).encode()


def as_array(payment: Payment) -> bytes:
    return json.dumps([paid_event(payment)]).encode()


def not_json(payment: Payment) -> bytes:
    return b'{"id": "evt_1", "type": '


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (deeply_nested, "The JSON is nested deeper than 32 levels."),
        (as_array, "the body is not a JSON object"),
        (not_json, "the body is not JSON"),
    ],
)
def test_a_signed_body_past_the_json_limits_is_a_400_recorded_as_rejected(
    payment, order_service, body, reason
):
    payload = body(payment)

    first = deliver(payment, payload)
    again = deliver(payment, payload)

    assert (first.status_code, again.status_code) == (400, 400)
    assert first.json()["error"]["code"] == "invalid_event"
    assert first.json()["error"]["details"] == {"reason": reason}
    rejected = WebhookEvent.objects.get()
    assert (rejected.provider, rejected.outcome, rejected.rejection_reason) == (
        payment.gateway,
        "rejected",
        reason,
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert order_service.orders[payment.order_id]["status"] == "PENDING"


@pytest.mark.parametrize("ahead", [3 * DAY, 30 * DAY])
def test_an_event_dated_in_the_future_is_refused_like_a_stale_one(payment, order_service, ahead):
    """Stripe's ``t`` (its signature's time) and Razorpay's ``created_at`` (signed in the body)."""
    future = int(time.time()) + ahead
    payload = json.dumps(paid_event(payment, at=future)).encode()

    response = deliver(payment, payload, signed_at=future)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert order_service.orders[payment.order_id]["status"] == "PENDING"


def test_a_clock_a_little_ahead_is_within_the_tolerance(payment, order_service):
    soon = int(time.time()) + 60
    payload = json.dumps(paid_event(payment, at=soon)).encode()

    response = deliver(payment, payload, signed_at=soon)

    assert response.status_code == 200
    assert response.json()["outcome"] == "succeeded"
    assert order_service.orders[payment.order_id]["status"] == "PAID"
