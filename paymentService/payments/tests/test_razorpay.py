"""Razorpay Payment Links through the official SDK (against the offline Razorpay sandbox), the choice
of gateway per payment, and Razorpay's webhooks: verified with the SDK's own utility, refused when
forged or stale, recorded once per X-Razorpay-Event-Id, applied through the same path as Stripe's."""

import json
import time
from decimal import Decimal

import pytest
from razorpay_sandbox.app import sign

from payments.gateways import razorpay_config
from payments.gateways.interface import CheckoutRequest
from payments.gateways.razorpay_links import RazorpayPaymentLinksGateway, reference_id
from payments.models import Payment, PaymentStatus, WebhookEvent
from payments.tests.support import committed, reconcile

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "razorpay_test_suite_only"


@pytest.fixture
def payment(customer, order_id, razorpay_sandbox):
    answer = customer.post("/service/", {"order_id": order_id, "gateway": "razorpay"}).json()
    return Payment.objects.get(pk=answer["payment_id"])


def link_event(
    payment: Payment,
    kind: str = "payment_link.paid",
    *,
    amount: int | None = None,
    currency: str | None = None,
    created_at: int | None = None,
) -> dict:
    paid = round(payment.amount * 100) if amount is None else amount
    link = {
        "id": payment.provider_reference,
        "entity": "payment_link",
        "amount": round(payment.amount * 100),
        "amount_paid": paid if kind == "payment_link.paid" else 0,
        "currency": currency or payment.currency,
        "status": {"payment_link.paid": "paid"}.get(kind, kind.rpartition(".")[2]),
        "notes": {"payment_id": str(payment.pk)},
        "reference_id": "r",
    }
    return {
        "entity": "event",
        "account_id": "acc_test",
        "event": kind,
        "contains": ["payment_link", "payment"],
        "payload": {
            "payment_link": {"entity": link},
            "payment": {"entity": {"id": "pay_test1", "amount": paid, "status": "captured"}},
        },
        "created_at": int(time.time()) if created_at is None else created_at,
    }


def deliver(
    client,
    event: dict | bytes,
    *,
    event_id: str | None = None,
    secret: str = WEBHOOK_SECRET,
    signature: str | None = None,
):
    payload = event if isinstance(event, bytes) else json.dumps(event).encode()
    headers = {"HTTP_X_RAZORPAY_EVENT_ID": event_id or f"evt_{time.monotonic_ns()}"}
    signature = sign(payload, secret) if signature is None else signature
    if signature:
        headers["HTTP_X_RAZORPAY_SIGNATURE"] = signature
    with committed():
        return client.post(
            "/webhook/razorpay/", data=payload, content_type="application/json", **headers
        )


# --- choosing the gateway ----------------------------------------------------------------------


def test_initiation_with_razorpay_creates_a_payment_link_at_the_orders_amount(
    customer, order_id, razorpay_sandbox, settings
):
    response = customer.post(
        "/service/", {"order_id": order_id, "gateway": "razorpay", "amount": "0.01"}
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["gateway"], body["amount"], body["currency"]) == (
        "PENDING",
        "razorpay",
        "53.20",
        "USD",
    )
    assert body["checkout_url"].startswith(f"{settings.RAZORPAY_API_BASE}/l/plink_")
    sent = razorpay_sandbox.received[-1]
    assert (sent["amount"], sent["currency"], sent["accept_partial"]) == (5320, "USD", False)
    assert sent["notes"]["payment_id"] == str(body["payment_id"])
    assert sent["callback_url"].endswith("/payments/success/")
    assert sent["reference_id"] == reference_id(
        f"shop-payment-{Payment.objects.get().checkout_key}"
    )


def test_without_a_gateway_the_configured_default_is_used(customer, order_id, sandbox, settings):
    settings.PAYMENT_GATEWAY = "stripe"

    assert customer.post("/service/", {"order_id": order_id}).json()["gateway"] == "stripe"


@pytest.mark.parametrize("gateway", ["razorpay", "paypal", ""])
def test_a_gateway_that_is_not_offered_is_a_400_naming_those_that_are(
    customer, order_id, settings, gateway
):
    settings.PAYMENT_GATEWAYS = ["stripe"]

    response = customer.post("/service/", {"order_id": order_id, "gateway": gateway})

    assert response.status_code == 400
    error = response.json()["error"]
    if gateway:
        assert error["code"] == "gateway_not_available"
        assert error["details"] == {"gateway": gateway, "available": ["stripe"]}
        assert "stripe" in error["message"]
    assert Payment.objects.count() == 0


def test_one_open_payment_per_order_across_gateways(customer, order_id, sandbox, razorpay_sandbox):
    first = customer.post("/service/", {"order_id": order_id, "gateway": "stripe"})

    other = customer.post("/service/", {"order_id": order_id, "gateway": "razorpay"})
    same = customer.post("/service/", {"order_id": order_id, "gateway": "stripe"})

    assert (first.status_code, other.status_code, same.status_code) == (201, 409, 200)
    error = other.json()["error"]
    assert error["code"] == "payment_open"
    assert error["details"]["gateway"] == "stripe"
    assert error["details"]["checkout_url"] == first.json()["checkout_url"]
    assert Payment.objects.count() == 1


def test_after_the_first_checkout_fails_another_gateway_may_be_chosen(
    customer, order_id, sandbox, razorpay_sandbox, order_service
):
    stripe_payment = customer.post("/service/", {"order_id": order_id}).json()
    Payment.objects.filter(pk=stripe_payment["payment_id"]).update(
        status=PaymentStatus.EXPIRED, open_for_order=None
    )

    answer = customer.post("/service/", {"order_id": order_id, "gateway": "razorpay"})

    assert answer.status_code == 201
    assert answer.json()["gateway"] == "razorpay"


def test_a_retried_link_creation_finds_the_first_link(razorpay_sandbox, settings):
    request = CheckoutRequest(
        payment_id=7,
        order_id=3,
        order_number="ORD-7",
        amount=Decimal("10.00"),
        currency="USD",
        description="Order ORD-7",
        success_url="http://shop.test/payments/success/",
        cancel_url="http://shop.test/payments/cancel/",
        idempotency_key=f"shop-payment-retry-{time.monotonic_ns()}",
    )
    gateway = RazorpayPaymentLinksGateway(razorpay_config())

    first, second = gateway.create_checkout(request), gateway.create_checkout(request)

    assert first == second


def test_a_wrong_razorpay_key_is_a_503_naming_razorpay(
    customer, order_id, razorpay_sandbox, settings
):
    settings.RAZORPAY_KEY_SECRET = "not-the-key"

    response = customer.post("/service/", {"order_id": order_id, "gateway": "razorpay"})

    assert response.status_code == 503
    assert response.json()["error"]["details"]["service"] == "razorpay"
    assert Payment.objects.get().status == PaymentStatus.CREATED


# --- webhooks ----------------------------------------------------------------------------------


def test_a_paid_link_pays_the_payment_and_the_order(client, payment, order_service):
    response = deliver(client, link_event(payment), event_id="evt_paid_1")

    assert response.status_code == 200
    assert response.json()["outcome"] == "succeeded"
    payment.refresh_from_db()
    assert (payment.status, payment.provider_payment_id, payment.open_for_order) == (
        PaymentStatus.SUCCEEDED,
        "pay_test1",
        None,
    )
    assert order_service.orders[payment.order_id]["status"] == "PAID"
    assert list(payment.status_changes.values_list("from_status", "to_status")) == [
        ("CREATED", "PENDING"),
        ("PENDING", "SUCCEEDED"),
    ]


def test_what_the_sandbox_sends_is_what_the_service_verifies(
    client, customer, order_id, razorpay_sandbox, order_service
):
    """The sandbox's own event (its shape and signature), held back and delivered by the test."""
    payment = customer.post("/service/", {"order_id": order_id, "gateway": "razorpay"}).json()
    razorpay_sandbox.hold_events = True
    try:
        razorpay_sandbox.pay(payment["provider_reference"])
    finally:
        razorpay_sandbox.hold_events = False
    held = razorpay_sandbox.held.pop()

    response = deliver(client, held["event"], event_id=held["id"])

    assert response.json()["outcome"] == "succeeded"
    assert order_service.orders[order_id]["status"] == "PAID"
    paid = Payment.objects.get(pk=payment["payment_id"])
    assert paid.provider_payment_id.startswith("pay_")


@pytest.mark.parametrize(
    "signature", ["", "0" * 64, "not-hex", sign(b"another body", WEBHOOK_SECRET)]
)
def test_a_forged_or_missing_signature_is_refused_and_nothing_recorded(
    client, payment, order_service, signature
):
    response = deliver(client, link_event(payment), signature=signature)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert WebhookEvent.objects.count() == 0
    assert order_service.orders[payment.order_id]["status"] == "PENDING"


def test_an_event_signed_with_another_secret_is_refused(client, payment):
    response = deliver(client, link_event(payment), secret="someone-elses-secret")

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_a_stale_event_is_refused(client, payment, settings, order_service):
    old = int(time.time()) - settings.RAZORPAY_WEBHOOK_TOLERANCE - 60

    response = deliver(client, link_event(payment, created_at=old))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert WebhookEvent.objects.count() == 0
    assert order_service.orders[payment.order_id]["status"] == "PENDING"


def test_a_replayed_event_is_applied_once(client, payment, order_service):
    event = link_event(payment)

    first = deliver(client, event, event_id="evt_replay")
    again = deliver(client, event, event_id="evt_replay")

    assert first.json()["outcome"] == "succeeded"
    assert again.json()["outcome"] == "duplicate:succeeded"
    assert order_service.outcome.call_count == 1
    assert WebhookEvent.objects.filter(provider="razorpay", event_id="evt_replay").count() == 1


def test_the_same_body_under_a_new_event_id_changes_nothing(client, payment, order_service):
    event = link_event(payment)
    deliver(client, event, event_id="evt_a")

    again = deliver(client, event, event_id="evt_b")

    assert again.json()["outcome"] == "already_succeeded"
    assert order_service.outcome.call_count == 1


def test_a_signed_event_of_the_wrong_shape_is_recorded_as_rejected(client, payment):
    event = link_event(payment)
    event["payload"]["payment_link"]["entity"]["amount_paid"] = "5320"

    response = deliver(client, event, event_id="evt_bad_shape")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_event"
    record = WebhookEvent.objects.get(event_id="evt_bad_shape")
    assert (record.outcome, record.provider) == ("rejected", "razorpay")


def test_a_paid_amount_that_differs_is_flagged_for_refund(client, payment, order_service):
    response = deliver(client, link_event(payment, amount=100))

    assert response.json()["outcome"] == "amount_mismatch"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.NEEDS_REFUND
    assert order_service.orders[payment.order_id]["status"] == "PENDING"


def test_a_failed_attempt_leaves_the_link_open(client, payment, order_service):
    event = {
        "entity": "event",
        "event": "payment.failed",
        "payload": {"payment": {"entity": {"id": "pay_x", "status": "failed"}}},
        "created_at": int(time.time()),
    }

    response = deliver(client, event)

    assert response.json()["outcome"] == "ignored"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("payment_link.cancelled", PaymentStatus.FAILED),
        ("payment_link.expired", PaymentStatus.EXPIRED),
    ],
)
def test_a_cancelled_or_expired_link_closes_the_payment_and_the_order(
    client, payment, order_service, kind, status
):
    response = deliver(client, link_event(payment, kind))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == status
    assert order_service.orders[payment.order_id]["status"] == "CANCELLED"


def test_a_cancellation_after_the_payment_changes_nothing(client, payment, order_service):
    deliver(client, link_event(payment))

    late = deliver(client, link_event(payment, "payment_link.cancelled"))

    assert late.json()["outcome"] == "stale_event"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


# --- reconciliation ----------------------------------------------------------------------------


def test_reconcile_applies_a_lost_razorpay_payment_once(payment, razorpay_sandbox, order_service):
    razorpay_sandbox.hold_events = True
    try:
        razorpay_sandbox.pay(payment.provider_reference)
    finally:
        razorpay_sandbox.hold_events = False
    razorpay_sandbox.held.clear()  # the webhook is lost

    reconcile()
    reconcile()

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.provider_payment_id.startswith("pay_")
    assert order_service.outcome.call_count == 1


def test_reconcile_leaves_open_links_alone(payment, razorpay_sandbox, order_service):
    reconcile()

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert order_service.outcome.call_count == 0
