"""Payments: checkouts through the official Stripe SDK (against the offline sandbox), and webhooks
that are verified, recorded once and applied once."""

import json
import threading
import time
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import IntegrityError, OperationalError, connection
from rest_framework.test import APIClient
from stripe_sandbox.app import sign

from payments.gateways.interface import Outcome, ProviderEvent
from payments.models import OrderNotice, Payment, PaymentStatus, WebhookEvent
from payments.services import webhooks
from payments.tests.support import call_command_output, committed

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_test_suite_only"


@pytest.fixture
def payment(customer, order_id, sandbox):
    answer = customer.post("/service/", {"order_id": order_id}).json()
    return Payment.objects.get(pk=answer["payment_id"])


def event_for(
    payment: Payment,
    kind: str,
    *,
    amount_cents: int | None = None,
    currency: str = "usd",
    paid: bool = True,
) -> dict:
    return {
        "id": f"evt_{kind.replace('.', '_')}_{payment.pk}_{time.monotonic_ns()}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {
            "object": {
                "id": payment.provider_reference,
                "object": "checkout.session",
                "amount_total": int(payment.amount * 100) if amount_cents is None else amount_cents,
                "currency": currency,
                "payment_status": "paid" if paid else "unpaid",
                "status": "complete",
                "metadata": {"payment_id": str(payment.pk)},
                "client_reference_id": str(payment.order_id),
            }
        },
    }


def deliver(
    client,
    event: dict,
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    path: str = "/webhook/stripe/",
    header: str | None = None,
):
    payload = json.dumps(event).encode()
    signature = header if header is not None else sign(payload, secret, timestamp)
    extra = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
    with committed():
        return client.post(path, data=payload, content_type="application/json", **extra)


# --- initiating ------------------------------------------------------------------------------


def test_initiation_creates_a_checkout_session_through_the_sdk_at_the_orders_amount(
    customer, order_id, sandbox, settings
):
    response = customer.post(
        "/service/", {"order_id": order_id, "total_amount": "0.01", "amount": "0.01"}
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["gateway"], body["amount"], body["currency"]) == (
        "PENDING",
        "stripe",
        "53.20",
        "USD",
    )
    assert body["checkout_url"] == body["url"]
    assert body["checkout_url"].startswith(f"{settings.STRIPE_API_BASE}/pay/cs_test_")
    sent = sandbox.received[-1]
    assert sent["line_items"][0]["price_data"]["unit_amount"] == "5320"
    assert sent["line_items"][0]["price_data"]["currency"] == "usd"
    assert sent["client_reference_id"] == str(order_id)
    assert sent["metadata"]["payment_id"] == str(body["payment_id"])
    assert "{CHECKOUT_SESSION_ID}" in sent["success_url"]


def test_initiation_and_its_webhook_run_only_the_statements_they_need(
    customer, order_id, sandbox, api_client, order_service, django_assert_num_queries
):
    """docs/development.md, "Counting SQL statements". Each transaction is a savepoint and its
    release here (the test runs in one)."""
    # A look for a payment that already took the order's money (the order may still read PENDING);
    # the new payment (its own atomic block; no look for an open one first); under the lock after
    # the provider answered: the payment read, its history row, its update. A payment just made
    # has no refunds: none asked for.
    with django_assert_num_queries(1 + (2 + 1) + (2 + 3)):
        answer = customer.post("/service/", {"order_id": order_id})
    assert (answer.status_code, answer.json()["refunds"]) == (201, [])
    payment = Payment.objects.get(pk=answer.json()["payment_id"])

    # The event's row inserted first (not looked for, no savepoint of its own), the payment
    # locked, its history row, its update, the order's notice, the event's outcome; after the
    # commit, the notice marked delivered.
    event = event_for(payment, "checkout.session.completed")
    with django_assert_num_queries(2 + 6 + 1):
        delivered = deliver(api_client, event)
    assert delivered.json()["outcome"] == "succeeded"
    # Again: the insert fails (its savepoint rolled back and released here), then the row is
    # read with its lock and answered.
    with django_assert_num_queries(4 + 2 + 1):
        again = deliver(api_client, event)
    assert again.json()["outcome"] == "duplicate:succeeded"


def test_an_integrity_error_of_the_events_own_writes_is_not_taken_for_a_duplicate(
    payment, monkeypatch
):
    """apply_event answers "duplicate" only when the event's row is there: any other unique
    violation while applying rolls the event back and is raised (the provider retries)."""

    def clash(event):
        raise IntegrityError("some other row")

    monkeypatch.setattr(webhooks, "_apply", clash)
    event = ProviderEvent(
        event_id="evt_clash",
        type="checkout.session.completed",
        outcome=Outcome.SUCCEEDED,
        reference=payment.provider_reference,
        payment_id=payment.pk,
        amount=payment.amount,
        currency=payment.currency,
    )

    with pytest.raises(IntegrityError):
        webhooks.apply_event(gateway_name="stripe", event=event)
    assert not WebhookEvent.objects.filter(event_id="evt_clash").exists()


def test_a_second_initiation_returns_the_open_payment(customer, order_id, sandbox):
    first = customer.post("/service/", {"order_id": order_id})
    created_before = len(sandbox.received)

    second = customer.post("/payment/service/", {"order_id": order_id})

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["payment_id"] == first.json()["payment_id"]
    assert len(sandbox.received) == created_before
    assert Payment.objects.count() == 1


def service_client(user_service, service: str) -> APIClient:
    client = APIClient()
    token = user_service.service_token("internal", client_id=f"shop-{service}")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.default_format = "json"
    return client


PLACED = {
    "order_id": 77,
    "order_number": "ORD-PLACED0001",
    "user_id": 41,
    "status": "PENDING",
    "total_amount": "61.30",
    "currency": "USD",
}


def test_the_order_service_starts_a_payment_at_the_amount_it_sends_without_a_read_back(
    user_service, order_service, sandbox, customer
):
    order = service_client(user_service, "order")

    first = order.post("/internal/payments/", PLACED)
    again = order.post("/internal/payments/", {**PLACED, "total_amount": "0.01"})

    assert first.status_code == 201, first.json()
    body = first.json()
    assert (body["order_id"], body["status"], body["amount"], body["currency"]) == (
        77,
        "PENDING",
        "61.30",
        "USD",
    )
    assert sandbox.received[-1]["line_items"][0]["price_data"]["unit_amount"] == "6130"
    assert not order_service.read.called
    # Idempotent: the open payment again, whatever figures come with the retry.
    assert (again.status_code, again.json()) == (200, body)
    # The customer sees it as their own, as one they started through POST /service/.
    assert customer.get(f"/payments/{body['payment_id']}/").status_code == 200


def test_an_order_whose_payment_succeeded_is_not_paid_twice_while_it_still_reads_pending(
    user_service, order_service, sandbox, customer
):
    """The order stays PENDING until the payment's notice reaches it (the product service may be
    down); a replayed checkout then must not open a second checkout."""
    order = service_client(user_service, "order")
    first = order.post("/internal/payments/", PLACED)
    Payment.objects.filter(pk=first.json()["payment_id"]).update(
        status=PaymentStatus.SUCCEEDED, open_for_order=None
    )

    again = order.post("/internal/payments/", PLACED)
    order_service.orders[PLACED["order_id"]] = {
        **PLACED,
        "id": PLACED["order_id"],
        "payment_reference": "",
        "needs_refund": False,
    }
    through_the_door = customer.post("/service/", {"order_id": PLACED["order_id"]})

    assert again.status_code == 409, again.json()
    assert again.json()["error"]["code"] == "order_not_payable"
    assert through_the_door.status_code == 409, through_the_door.json()
    assert Payment.objects.filter(order_id=PLACED["order_id"]).count() == 1


@pytest.mark.parametrize(
    ("service", "status"), [("integration", 403), ("cart", 403), ("payment", 403)]
)
def test_only_the_order_service_may_send_an_order_to_pay(user_service, sandbox, service, status):
    response = service_client(user_service, service).post("/internal/payments/", PLACED)

    assert response.status_code == status
    assert not Payment.objects.exists()


def test_nothing_to_pay_is_never_a_checkout(user_service, sandbox):
    response = service_client(user_service, "order").post(
        "/internal/payments/", {**PLACED, "total_amount": "0.00"}
    )

    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_a_customer_cannot_send_an_amount_to_pay(customer, sandbox):
    response = customer.post("/internal/payments/", PLACED)

    assert response.status_code == 401
    assert not Payment.objects.exists()


def test_another_customers_order_is_404(user_service, order_service, sandbox):
    theirs = order_service.add(user_id=99)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {user_service.token_for('CUSTOMER', user_id=41)}"
    )

    response = client.post("/service/", {"order_id": theirs}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "order_not_found"


@pytest.mark.parametrize("status", ["PAID", "CANCELLED", "DELIVERED"])
def test_only_a_pending_order_can_be_paid(customer, order_service, sandbox, status):
    order_id = order_service.add(user_id=41, status=status)

    response = customer.post("/service/", {"order_id": order_id})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_payable"


def test_order_service_down_at_initiation_is_a_503(customer, order_id, order_service, sandbox):
    order_service.down = True

    response = customer.post("/service/", {"order_id": order_id})

    assert response.status_code == 503
    assert response.json()["error"]["details"]["service"] == "order"


def test_stripe_unreachable_is_a_503_and_the_next_try_opens_the_checkout(
    customer, order_id, sandbox, settings
):
    real = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    down = customer.post("/service/", {"order_id": order_id})
    settings.STRIPE_API_BASE = real
    later = customer.post("/service/", {"order_id": order_id})

    assert down.status_code == 503
    assert down.json()["error"]["details"]["service"] == "stripe"
    assert later.status_code == 200
    assert later.json()["status"] == "PENDING"
    assert Payment.objects.count() == 1


def test_anonymous_callers_get_401(api_client, user_service):
    assert api_client.post("/service/", {"order_id": 1}, format="json").status_code == 401


@pytest.mark.parametrize("order_id", [2**63, 0, "x"])
def test_an_order_id_out_of_range_is_a_400_naming_it(customer, order_service, order_id):
    response = customer.post("/service/", {"order_id": order_id})

    assert response.status_code == 400
    assert "order_id" in response.json()["error"]["details"]


# --- reading ---------------------------------------------------------------------------------


def test_the_owner_and_staff_read_a_payment_others_get_404(customer, payment, user_service):
    stranger = APIClient()
    stranger.credentials(
        HTTP_AUTHORIZATION=f"Bearer {user_service.token_for('CUSTOMER', user_id=77)}"
    )
    staff = APIClient()
    staff.credentials(HTTP_AUTHORIZATION=f"Bearer {user_service.token_for('STAFF')}")

    assert customer.get(f"/payments/{payment.pk}/").json()["payment_id"] == payment.pk
    assert staff.get(f"/payments/{payment.pk}/").status_code == 200
    assert stranger.get(f"/payments/{payment.pk}/").status_code == 404
    assert customer.get(f"/payments/?order_id={payment.order_id}").json()["count"] == 1
    assert stranger.get(f"/payments/?order_id={payment.order_id}").json()["count"] == 0


@pytest.mark.parametrize("order_id", ["abc", "", "-1", "1.5", "\u00b2", "9" * 25])
def test_an_order_id_that_is_no_id_is_a_400_naming_it(customer, order_id):
    response = customer.get("/payments/", {"order_id": order_id})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["order_id"]


# --- webhooks --------------------------------------------------------------------------------


def test_a_completed_checkout_pays_the_order(api_client, payment, order_service):
    response = deliver(api_client, event_for(payment, "checkout.session.completed"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "succeeded"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert order_service.orders[payment.order_id]["status"] == "PAID"


def test_the_first_releases_webhook_path_works_too(api_client, payment, order_service):
    assert (
        deliver(
            api_client,
            event_for(payment, "checkout.session.completed"),
            path="/payment/webhook/stripe/",
        ).status_code
        == 200
    )
    assert order_service.orders[payment.order_id]["status"] == "PAID"


@pytest.mark.parametrize(
    "forgery",
    [
        "no header",
        "wrong secret",
        "tampered body",
        "stale timestamp",
        "wrong scheme",
        "garbage header",
    ],
)
def test_forged_webhooks_are_refused_and_change_nothing(
    api_client, payment, order_service, forgery
):
    event = event_for(payment, "checkout.session.completed")
    payload = json.dumps(event).encode()
    if forgery == "no header":
        response = deliver(api_client, event, header="")
    elif forgery == "wrong secret":
        response = deliver(api_client, event, secret="whsec_someone_else")
    elif forgery == "tampered body":
        header = sign(payload, WEBHOOK_SECRET)
        event["data"]["object"]["amount_total"] = 1
        response = deliver(api_client, event, header=header)
    elif forgery == "stale timestamp":
        response = deliver(api_client, event, timestamp=int(time.time()) - 301)
    elif forgery == "wrong scheme":
        good = sign(payload, WEBHOOK_SECRET)
        response = deliver(api_client, event, header=good.replace("v1=", "v0="))
    else:
        response = deliver(api_client, event, header="not a signature")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert order_service.orders[payment.order_id]["status"] == "PENDING"
    assert not WebhookEvent.objects.exists()


def test_a_replayed_event_is_acknowledged_and_applied_once(api_client, payment, order_service):
    event = event_for(payment, "checkout.session.completed")

    first = deliver(api_client, event)
    replay = deliver(api_client, event)

    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.json()["outcome"] == "duplicate:succeeded"
    assert order_service.outcome.call_count == 1


def test_a_webhook_while_the_order_service_is_down_is_saved_and_reaches_the_order_later(
    api_client, payment, order_service
):
    """The payment is saved and the provider answered 2xx whatever the order service does; the
    order learns it from the outbox once it is back, once."""
    event = event_for(payment, "checkout.session.completed")
    order_service.down = True

    answered = deliver(api_client, event)
    redelivered = deliver(api_client, event)

    assert (answered.status_code, answered.json()["outcome"]) == (200, "succeeded")
    assert redelivered.json()["outcome"] == "duplicate:succeeded"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert order_service.orders[payment.order_id]["status"] == "PENDING"
    notice = OrderNotice.objects.get()
    assert (notice.kind, notice.done_at, notice.attempts) == ("payment-succeeded", None, 1)
    assert "order" in notice.last_error

    order_service.down = False
    calls_before = order_service.outcome.call_count
    drained = call_command_output("drain_outbox")
    again = call_command_output("drain_outbox")

    assert drained == "delivered 1 order notice(s), 0 pending"
    assert again == ""
    assert order_service.orders[payment.order_id]["status"] == "PAID"
    assert order_service.outcome.call_count - calls_before == 1
    notice.refresh_from_db()
    assert (notice.answer, notice.attempts) == ("accepted", 2)
    assert notice.done_at is not None
    assert WebhookEvent.objects.get().outcome == "succeeded"


def test_an_amount_that_differs_from_the_order_needs_a_refund(api_client, payment, order_service):
    response = deliver(
        api_client, event_for(payment, "checkout.session.completed", amount_cents=100)
    )

    assert response.json()["outcome"] == "amount_mismatch"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.NEEDS_REFUND
    assert order_service.orders[payment.order_id]["status"] == "PENDING"


def test_a_currency_that_differs_needs_a_refund(api_client, payment):
    deliver(api_client, event_for(payment, "checkout.session.completed", currency="eur"))

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.NEEDS_REFUND


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("checkout.session.async_payment_failed", PaymentStatus.FAILED),
        ("checkout.session.expired", PaymentStatus.EXPIRED),
    ],
)
def test_failed_or_expired_checkouts_cancel_the_order(
    api_client, payment, order_service, kind, status
):
    response = deliver(api_client, event_for(payment, kind, paid=False))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == status
    assert order_service.orders[payment.order_id]["status"] == "CANCELLED"


@pytest.mark.parametrize(
    "late", ["checkout.session.expired", "checkout.session.async_payment_failed"]
)
def test_a_late_failure_after_success_changes_nothing(api_client, payment, order_service, late):
    deliver(api_client, event_for(payment, "checkout.session.completed"))

    response = deliver(api_client, event_for(payment, late, paid=False))

    assert response.status_code == 200
    assert response.json()["outcome"] == "stale_event"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert order_service.orders[payment.order_id]["status"] == "PAID"


def test_a_completed_but_unpaid_checkout_waits_for_the_async_result(
    api_client, payment, order_service
):
    waiting = deliver(api_client, event_for(payment, "checkout.session.completed", paid=False))
    settled = deliver(api_client, event_for(payment, "checkout.session.async_payment_succeeded"))

    assert waiting.json()["outcome"] == "pending"
    assert settled.json()["outcome"] == "succeeded"
    assert order_service.orders[payment.order_id]["status"] == "PAID"


def test_a_payment_the_order_refuses_is_flagged_for_refund(api_client, payment, order_service):
    order_service.orders[payment.order_id]["status"] = "CANCELLED"  # expired meanwhile

    response = deliver(api_client, event_for(payment, "checkout.session.completed"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "succeeded"  # what the event did; the order said no later
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.NEEDS_REFUND
    assert payment.failure_reason == "order refused the payment: order_not_payable"
    assert OrderNotice.objects.get().answer == "order_not_payable"
    assert list(payment.status_changes.values_list("to_status", flat=True)) == [
        "PENDING",
        "SUCCEEDED",
        "NEEDS_REFUND",
    ]


def test_an_event_for_a_session_we_do_not_know_is_acknowledged(api_client, payment):
    event = event_for(payment, "checkout.session.completed")
    event["data"]["object"]["metadata"] = {}
    event["data"]["object"]["id"] = "cs_test_someone_elses"

    response = deliver(api_client, event)

    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown_payment"


@pytest.mark.skipif(
    connection.vendor != "mysql", reason="concurrent deliveries need MariaDB's row locks"
)
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_racing_apply_the_event_once(payment, order_service):
    event = event_for(payment, "checkout.session.completed")
    answers = []

    def post() -> None:
        answers.append(deliver(APIClient(), event).json()["outcome"])

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == ["duplicate:succeeded"] * 3 + ["succeeded"]
    assert order_service.outcome.call_count == 1


# --- reconciliation --------------------------------------------------------------------------


def test_reconcile_applies_a_lost_completion_once(payment, sandbox, order_service):
    sandbox.sessions[payment.provider_reference].update(status="complete", payment_status="paid")
    Payment.objects.filter(pk=payment.pk).update(
        updated_at=payment.updated_at - timedelta(minutes=11)
    )

    with committed():
        call_command("reconcile_payments")
        call_command("reconcile_payments", "--older-than", "0")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert order_service.outcome.call_count == 1


def test_reconcile_leaves_open_checkouts_alone(payment, sandbox, order_service):
    call_command("reconcile_payments", "--older-than", "0")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert order_service.outcome.call_count == 0


def test_landing_pages_show_the_payment(client, payment):
    page = client.get(f"/payments/success/?session_id={payment.provider_reference}")

    assert page.status_code == 200
    assert b"Thank you" in page.content
    assert str(Decimal(payment.amount)).encode() in page.content
    assert b"Payment not completed" in client.get("/payments/cancel/").content


@pytest.mark.parametrize("page", ["success", "cancel"])
def test_landing_pages_are_never_stored(client, payment, page):
    """They show an order's payment (order, amount, status): no browser or proxy keeps a copy."""
    response = client.get(f"/payments/{page}/?session_id={payment.provider_reference}")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


# --- signed events of the wrong shape ---------------------------------------------------------


def without_object(event: dict) -> dict:
    return {**event, "data": {}}


def amount_as_text(event: dict) -> dict:
    return {**event, "data": {"object": {**event["data"]["object"], "amount_total": "abc"}}}


def metadata_as_list(event: dict) -> dict:
    return {**event, "data": {"object": {**event["data"]["object"], "metadata": ["x"]}}}


def without_id(event: dict) -> dict:
    return {key: value for key, value in event.items() if key != "id"}


@pytest.mark.parametrize("spoil", [without_object, amount_as_text, metadata_as_list, without_id])
def test_a_signed_event_of_the_wrong_shape_is_a_400_recorded_as_rejected(
    api_client, payment, order_service, spoil
):
    event = spoil(event_for(payment, "checkout.session.completed"))

    first = deliver(api_client, event)
    again = deliver(api_client, event)

    assert first.status_code == again.status_code == 400
    assert first.json()["error"]["code"] == "invalid_event"
    rejected = WebhookEvent.objects.get(outcome="rejected")
    assert rejected.rejection_reason
    assert WebhookEvent.objects.count() == 1, "a redelivery finds it rejected already"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert order_service.orders[payment.order_id]["status"] == "PENDING"


def test_webhook_events_and_payments_are_counted_by_outcome(api_client, payment, order_service):
    from prometheus_client import REGISTRY

    def events(outcome: str) -> float:
        labels = {"provider": "stripe", "outcome": outcome}
        return REGISTRY.get_sample_value("shop_webhook_events_total", labels) or 0

    def succeeded() -> float:
        labels = {"gateway": "stripe", "status": "SUCCEEDED"}
        return REGISTRY.get_sample_value("shop_payments_total", labels) or 0

    outcomes = ("applied", "duplicate", "rejected", "failed")
    before = {outcome: events(outcome) for outcome in outcomes}
    paid_before = succeeded()
    event = event_for(payment, "checkout.session.completed")

    with mock.patch.object(webhooks, "_apply", side_effect=OperationalError("database gone")):
        assert deliver(api_client, event).status_code == 503
    deliver(api_client, event)
    deliver(api_client, event)
    deliver(api_client, event, secret="whsec_someone_else")

    assert {outcome: events(outcome) - before[outcome] for outcome in outcomes} == {
        "applied": 1,
        "duplicate": 1,
        "rejected": 1,
        "failed": 1,
    }
    assert succeeded() == paid_before + 1
