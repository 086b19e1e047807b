"""The order service is told after the commit: what a webhook changed reaches the order through the
outbox (payments.outbox), never while a row lock is held, in the order it happened, once."""

import json
import time

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient
from stripe_sandbox.app import sign

from payments.models import OrderNotice, Payment, PaymentStatus
from payments.tests.support import call_command_output, committed

WEBHOOK_SECRET = "whsec_test_suite_only"


def stripe_event(payment: Payment, kind: str, data: dict) -> dict:
    return {
        "id": f"evt_{kind}_{payment.pk}_{time.monotonic_ns()}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": data},
    }


def completed(payment: Payment) -> dict:
    return stripe_event(
        payment,
        "checkout.session.completed",
        {
            "id": payment.provider_reference,
            "object": "checkout.session",
            "amount_total": int(payment.amount * 100),
            "currency": payment.currency.lower(),
            "payment_status": "paid",
            "status": "complete",
            "payment_intent": f"pi_{payment.pk}",
            "metadata": {"payment_id": str(payment.pk)},
        },
    )


def refunded_in_full(payment: Payment) -> dict:
    """A refund made at Stripe's dashboard for everything captured."""
    cents = int(payment.amount * 100)
    return stripe_event(
        payment,
        "charge.refunded",
        {
            "id": f"ch_{payment.pk}",
            "object": "charge",
            "amount": cents,
            "amount_refunded": cents,
            "currency": payment.currency.lower(),
            "payment_intent": f"pi_{payment.pk}",
            "refunds": {
                "object": "list",
                "data": [
                    {"id": f"re_{payment.pk}", "amount": cents, "status": "succeeded"},
                ],
            },
        },
    )


def deliver(event: dict):
    payload = json.dumps(event).encode()
    with committed():
        return APIClient().post(
            "/webhook/stripe/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
        )


@pytest.fixture
def payment(customer, order_id, sandbox):
    answer = customer.post("/service/", {"order_id": order_id}).json()
    return Payment.objects.get(pk=answer["payment_id"])


@pytest.mark.django_db(transaction=True)
def test_the_order_service_is_called_only_after_the_commit(payment, order_service):
    """Every call to the order service happens outside a transaction: no row lock is held."""
    in_transaction = []
    answer = order_service.outcome.side_effect

    def watched(request, **kwargs):
        in_transaction.append(connection.in_atomic_block)
        return answer(request, **kwargs)

    order_service.outcome.side_effect = watched

    response = deliver(completed(payment))

    assert response.status_code == 200
    assert in_transaction == [False]
    assert order_service.orders[payment.order_id]["status"] == "PAID"


@pytest.mark.django_db
def test_a_later_notice_of_a_payment_waits_for_an_earlier_one(payment, order_service):
    """Paid while the order service was down, then refunded in full once it is back: the order
    hears "paid" before "refunded", although the refund's notice is the one tried at once."""
    order_service.down = True
    assert deliver(completed(payment)).json()["outcome"] == "succeeded"
    order_service.down = False

    assert deliver(refunded_in_full(payment)).json()["outcome"] == "refunded"

    assert order_service.refunded.call_count == 0, "not before the order knows it was paid"
    assert order_service.orders[payment.order_id]["status"] == "PENDING"
    call_command("drain_outbox")
    assert order_service.orders[payment.order_id]["status"] == "REFUNDED"
    notices = OrderNotice.objects.order_by("id")
    assert [(n.kind, n.answer) for n in notices] == [
        ("payment-succeeded", "accepted"),
        ("refunded", "accepted"),
    ]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED


@pytest.mark.django_db
def test_a_failed_checkout_reaches_the_order_once_it_is_back(payment, order_service):
    expired = stripe_event(
        payment,
        "checkout.session.expired",
        {
            "id": payment.provider_reference,
            "object": "checkout.session",
            "amount_total": None,
            "currency": "usd",
            "payment_status": "unpaid",
            "status": "expired",
            "metadata": {"payment_id": str(payment.pk)},
        },
    )
    order_service.down = True

    assert deliver(expired).json()["outcome"] == "expired"
    order_service.down = False
    call_command("drain_outbox")

    assert order_service.orders[payment.order_id]["status"] == "CANCELLED"
    notice = OrderNotice.objects.get()
    assert (notice.kind, notice.reason, notice.answer) == (
        "payment-failed",
        "checkout.session.expired",
        "accepted",
    )


@pytest.mark.django_db
def test_the_drain_stops_at_the_first_notice_the_order_service_does_not_take(
    customer, order_service, sandbox
):
    payments = []
    for _ in range(2):
        order_id = order_service.add(user_id=41)
        answer = customer.post("/service/", {"order_id": order_id}).json()
        payments.append(Payment.objects.get(pk=answer["payment_id"]))
    order_service.down = True
    for payment in payments:
        deliver(completed(payment))

    out = call_command_output("drain_outbox")

    assert out == "delivered 0 order notice(s), 2 pending"
    attempts = list(OrderNotice.objects.order_by("id").values_list("attempts", flat=True))
    assert attempts == [2, 1], "the drain tried the first notice again, not the second"
