"""Refunds through each gateway's SDK (against the offline sandboxes): staff only, never more than was
captured, idempotent per request key, confirmed by the provider's webhook (Stripe's
``charge.refunded``, Razorpay's ``refund.processed``), shown on the payment and, when full, on the
order; and the automatic refund of money that landed on an unpayable order."""

import json
import logging
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from razorpay_sandbox.app import sign as razorpay_sign
from rest_framework.test import APIClient
from stripe_sandbox.app import sign as stripe_sign

from payments.gateways import get_gateway
from payments.gateways.interface import RefundUpdate
from payments.gateways.razorpay_links import RazorpayPaymentLinksGateway
from payments.gateways.stripe_checkout import StripeCheckoutGateway
from payments.models import Payment, PaymentStatus, Refund, RefundStatus, WebhookEvent
from payments.tests.support import committed, reconcile
from shop_common.testing.waiting import eventually

pytestmark = pytest.mark.django_db

GATEWAYS = ["stripe", "razorpay"]


@pytest.fixture
def events(sandbox, razorpay_sandbox, monkeypatch):
    """What the sandboxes would deliver, kept for the test to deliver (and when)."""
    kept: list[tuple[str, bytes, dict]] = []

    def keep_stripe(event: dict) -> None:
        payload = json.dumps(event).encode()
        kept.append(
            (
                "stripe",
                payload,
                {"HTTP_STRIPE_SIGNATURE": stripe_sign(payload, "whsec_test_suite_only")},
            )
        )

    def keep_razorpay(event_id: str, event: dict) -> None:
        payload = json.dumps(event).encode()
        headers = {
            "HTTP_X_RAZORPAY_SIGNATURE": razorpay_sign(payload, "razorpay_test_suite_only"),
            "HTTP_X_RAZORPAY_EVENT_ID": event_id,
        }
        kept.append(("razorpay", payload, headers))

    monkeypatch.setattr(sandbox, "deliver", keep_stripe)
    monkeypatch.setattr(razorpay_sandbox, "deliver", keep_razorpay)
    return kept


def wait_for(kept: list, count: int) -> None:
    # The sandboxes hand events to a thread.
    eventually(lambda: len(kept), lambda held: held >= count, timeout=5, interval=0.01)
    assert len(kept) >= count, f"{len(kept)} events, not {count}"


def deliver_next(kept: list) -> str:
    """The oldest kept event, delivered; what it did."""
    gateway, payload, headers = kept.pop(0)
    with committed():
        response = APIClient().post(
            f"/webhook/{gateway}/", data=payload, content_type="application/json", **headers
        )
    assert response.status_code == 200, response.json()
    return response.json()["outcome"]


def deliver_all(kept: list) -> list[str]:
    outcomes = []
    while kept:
        outcomes.append(deliver_next(kept))
    return outcomes


def paid_payment(
    customer,
    order_service,
    sandbox,
    razorpay_sandbox,
    events,
    gateway: str,
    total: str = "53.20",
    currency: str = "USD",
):
    order_id = order_service.add(user_id=41, total=total, currency=currency)
    answer = customer.post("/service/", {"order_id": order_id, "gateway": gateway}).json()
    if gateway == "stripe":
        sandbox.finish(answer["provider_reference"], "pay")
    else:
        razorpay_sandbox.pay(answer["provider_reference"])
    wait_for(events, 1)
    assert deliver_all(events) == ["succeeded"]
    return Payment.objects.get(pk=answer["payment_id"])


@pytest.fixture(params=GATEWAYS)
def paid(request, customer, order_service, sandbox, razorpay_sandbox, events):
    return paid_payment(customer, order_service, sandbox, razorpay_sandbox, events, request.param)


def refund(staff, payment, key: str, **body):
    return staff.post(
        f"/payments/{payment.pk}/refund/",
        {"reason": "customer asked", **body},
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_partial_then_a_full_refund_reach_the_provider_and_the_order(
    staff, paid, events, order_service
):
    assert paid.captured_amount == Decimal("53.20")
    assert paid.provider_payment_id

    partial = refund(staff, paid, "r-1", amount="20.00")

    assert partial.status_code == 201, partial.json()
    body = partial.json()
    assert (body["refund"]["status"], body["refund"]["amount"]) == ("PENDING", "20.00")
    assert body["refund"]["provider_refund_id"].startswith(("re_", "rfnd_"))
    wait_for(events, 1)
    assert deliver_all(events) == ["partially_refunded"]
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == (PaymentStatus.PARTIALLY_REFUNDED, Decimal("20"))
    assert order_service.orders[paid.order_id]["status"] == "PAID"

    rest = refund(staff, paid, "r-2")

    assert rest.status_code == 201
    assert rest.json()["refund"]["amount"] == "33.20"
    wait_for(events, 1)
    assert deliver_all(events) == ["refunded"]
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == (PaymentStatus.REFUNDED, Decimal("53.20"))
    assert set(paid.refunds.values_list("status", flat=True)) == {RefundStatus.SUCCEEDED}
    assert order_service.orders[paid.order_id]["status"] == "REFUNDED"
    assert order_service.refunded.call_count == 1
    shown = staff.get(f"/payments/{paid.pk}/").json()
    assert (shown["status"], shown["refunded_amount"], len(shown["refunds"])) == (
        "REFUNDED",
        "53.20",
        2,
    )


def test_never_more_than_captured(staff, paid, events):
    too_much = refund(staff, paid, "r-big", amount="53.21")
    refund(staff, paid, "r-all")
    again = refund(staff, paid, "r-more", amount="0.01")

    assert too_much.status_code == 409
    assert too_much.json()["error"]["code"] == "refund_exceeds_captured"
    assert too_much.json()["error"]["details"]["refundable"] == "53.20"
    assert again.status_code == 409
    assert again.json()["error"]["details"]["refundable"] == "0.00"
    assert Refund.objects.count() == 1


def test_the_same_request_key_is_the_same_refund(staff, paid, events, sandbox, razorpay_sandbox):
    sent_before = len(sandbox.received) + len(razorpay_sandbox.received)

    first = refund(staff, paid, "r-same", amount="10.00")
    again = refund(staff, paid, "r-same", amount="10.00")
    other_body = refund(staff, paid, "r-same", amount="11.00")

    assert (first.status_code, again.status_code, other_body.status_code) == (201, 200, 422)
    assert first.json()["refund"]["refund_id"] == again.json()["refund"]["refund_id"]
    refunds_sent = [
        r
        for r in [*sandbox.received, *razorpay_sandbox.received][sent_before:]
        if "refund" in r.get("path", "")
    ]
    assert len(refunds_sent) == 1


def test_a_refund_webhook_that_arrives_before_the_api_answer(staff, paid, events, monkeypatch):
    """The provider's event overtakes its answer to the SDK: both orders end in the same place."""
    gateway_class = (
        StripeCheckoutGateway if paid.gateway == "stripe" else RazorpayPaymentLinksGateway
    )
    real = gateway_class.refund

    def webhook_first(self, request):
        answer = real(self, request)
        wait_for(events, 1)
        assert deliver_all(events) == ["refunded"]
        return answer

    monkeypatch.setattr(gateway_class, "refund", webhook_first)

    response = refund(staff, paid, "r-race")

    assert response.status_code == 201
    assert response.json()["refund"]["status"] == "SUCCEEDED"
    assert response.json()["refund"]["provider_refund_id"]
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == (PaymentStatus.REFUNDED, Decimal("53.20"))


def test_a_replayed_refund_event_counts_once(staff, paid, events):
    refund(staff, paid, "r-once", amount="5.00")
    wait_for(events, 1)
    replay = list(events)

    deliver_all(events)
    outcomes = deliver_all(replay)

    assert outcomes[0].startswith("duplicate:")
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("5.00")


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_an_unpaid_payment_cannot_be_refunded(
    staff, customer, order_service, sandbox, razorpay_sandbox, gateway
):
    order_id = order_service.add(user_id=41)
    payment = customer.post("/service/", {"order_id": order_id, "gateway": gateway}).json()

    response = staff.post(
        f"/payments/{payment['payment_id']}/refund/",
        {"reason": "never paid"},
        HTTP_IDEMPOTENCY_KEY="r-unpaid",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payment_not_refundable"
    assert Refund.objects.count() == 0


def test_a_refund_needs_an_idempotency_key_and_a_reason(staff, paid):
    no_key = staff.post(f"/payments/{paid.pk}/refund/", {"reason": "x"})
    no_reason = staff.post(f"/payments/{paid.pk}/refund/", {}, HTTP_IDEMPOTENCY_KEY="r-x")

    assert (no_key.status_code, no_reason.status_code) == (400, 400)
    assert Refund.objects.count() == 0


def test_customers_cannot_refund_even_their_own_payment(customer, paid):
    response = customer.post(
        f"/payments/{paid.pk}/refund/", {"reason": "please"}, HTTP_IDEMPOTENCY_KEY="r-c"
    )

    assert response.status_code == 403
    assert Refund.objects.count() == 0


def test_an_unknown_payment_is_404(staff, db):
    response = staff.post("/payments/987654/refund/", {"reason": "x"}, HTTP_IDEMPOTENCY_KEY="r-404")

    assert response.status_code == 404


def test_a_provider_that_does_not_answer_is_a_503_and_the_refund_is_sent_again_later(
    staff, paid, events, settings
):
    good = (settings.STRIPE_API_BASE, settings.RAZORPAY_API_BASE)
    settings.STRIPE_API_BASE = settings.RAZORPAY_API_BASE = "http://127.0.0.1:9"

    response = refund(staff, paid, "r-down")

    assert response.status_code == 503
    assert response.json()["error"]["details"]["service"] == paid.gateway
    assert Refund.objects.get().status == RefundStatus.REQUESTED
    settings.STRIPE_API_BASE, settings.RAZORPAY_API_BASE = good
    reconcile()
    wait_for(events, 1)
    assert deliver_all(events) == ["refunded"]
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_money_that_lands_on_an_unpayable_order_goes_back_by_itself(
    customer,
    order_service,
    sandbox,
    razorpay_sandbox,
    events,
    gateway,
    caplog,
):
    order_id = order_service.add(user_id=41, total="53.20")
    answer = customer.post("/service/", {"order_id": order_id, "gateway": gateway}).json()
    order_service.orders[order_id]["status"] = "CANCELLED"  # expired meanwhile
    if gateway == "stripe":
        sandbox.finish(answer["provider_reference"], "pay")
    else:
        razorpay_sandbox.pay(answer["provider_reference"])
    wait_for(events, 1)

    with caplog.at_level(logging.WARNING, logger="shop.payments"):
        assert deliver_next(events) == "succeeded"  # the order refuses it after the commit

    payment = Payment.objects.get(pk=answer["payment_id"])
    automatic = payment.refunds.get()
    assert (automatic.automatic, automatic.amount, automatic.status) == (
        True,
        Decimal("53.20"),
        RefundStatus.PENDING,
    )
    assert "refunding it automatically" in caplog.text
    wait_for(events, 1)
    assert deliver_all(events) == ["refunded"]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert order_service.refunded.call_count == 0  # the order was never paid by it
    assert list(payment.status_changes.values_list("to_status", flat=True)) == [
        "PENDING",
        "SUCCEEDED",
        "NEEDS_REFUND",
        "REFUNDED",
    ]
    assert payment.failure_reason == "order refused the payment: order_not_payable"


def test_refunds_are_counted_for_prometheus(staff, paid, events):
    from prometheus_client import REGISTRY

    def counted(outcome: str) -> float:
        labels = {"gateway": paid.gateway, "outcome": outcome}
        return REGISTRY.get_sample_value("shop_refunds_total", labels) or 0

    before = {outcome: counted(outcome) for outcome in ("requested", "succeeded", "failed")}

    with committed():
        assert refund(staff, paid, "r-metrics", amount="5.00").status_code == 201
    wait_for(events, 1)
    assert deliver_all(events) == ["partially_refunded"]

    assert {outcome: counted(outcome) - before[outcome] for outcome in before} == {
        "requested": 1,
        "succeeded": 1,
        "failed": 0,
    }


def test_a_refund_whose_webhook_is_lost_is_settled_by_reconciliation(
    staff, paid, events, order_service
):
    assert refund(staff, paid, "r-lost").status_code == 201
    wait_for(events, 1)
    lost = events.pop()  # the provider's confirmation never arrives
    assert Refund.objects.get().status == RefundStatus.PENDING

    reconcile()

    paid.refresh_from_db()
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert (paid.status, paid.refunded_amount) == (PaymentStatus.REFUNDED, Decimal("53.20"))
    assert order_service.orders[paid.order_id]["status"] == "REFUNDED"
    # The webhook turning up late after all changes nothing more.
    events.append(lost)
    assert deliver_all(events) == ["refund_unchanged"]
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("53.20")


def test_a_refund_still_pending_at_the_provider_stays_pending(staff, paid, events, monkeypatch):
    assert refund(staff, paid, "r-slow").status_code == 201
    wait_for(events, 1)
    events.clear()
    gateway = type(get_gateway(paid.gateway))
    monkeypatch.setattr(gateway, "fetch_refund", lambda self, reference: None)

    reconcile()

    assert Refund.objects.get().status == RefundStatus.PENDING
    paid.refresh_from_db()
    assert paid.status == PaymentStatus.SUCCEEDED


# --- the refund's currency ----------------------------------------------------------------------


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_a_refund_is_made_and_recorded_in_the_payments_currency(
    staff, customer, order_service, sandbox, razorpay_sandbox, events, gateway
):
    paid = paid_payment(
        customer, order_service, sandbox, razorpay_sandbox, events, gateway, "1500.00", "JPY"
    )

    response = refund(staff, paid, "r-yen", amount="500")

    assert response.status_code == 201
    assert (response.json()["refund"]["amount"], response.json()["refund"]["currency"]) == (
        "500.00",
        "JPY",
    )
    assert Refund.objects.get().currency == "JPY"
    received = sandbox.received if gateway == "stripe" else razorpay_sandbox.received
    sent = [r for r in received if "refund" in r.get("path", "")][-1]
    assert int(sent["amount"]) == 500  # JPY has no minor unit
    wait_for(events, 1)
    assert deliver_all(events) == ["partially_refunded"]
    shown = staff.get(f"/payments/{paid.pk}/").json()
    assert (shown["refunded_amount"], shown["refunds"][0]["currency"]) == ("500.00", "JPY")


STRIPE_SECRET = "whsec_test_suite_only"  # config/settings_test.py
RAZORPAY_SECRET = "razorpay_test_suite_only"


def restated(kept: tuple[str, bytes, dict], currency: str, *, at_provider: bool = False):
    """A provider's refund event as if the refund were in ``currency`` (and, ``at_provider``, one
    made at the provider's dashboard rather than ours): a new event id, signed again."""
    gateway, payload, headers = kept
    body = json.loads(payload)
    if gateway == "stripe":
        body["id"] += "-restated"
        charge = body["data"]["object"]
        charge["currency"] = currency.lower()
        for item in charge["refunds"]["data"]:
            item["currency"] = currency.lower()
            if at_provider:
                item.update(id="re_made_at_the_dashboard", metadata={})
        payload = json.dumps(body).encode()
        return gateway, payload, {"HTTP_STRIPE_SIGNATURE": stripe_sign(payload, STRIPE_SECRET)}
    entity = body["payload"]["refund"]["entity"]
    entity["currency"] = currency
    if at_provider:
        entity.update(id="rfnd_dashboard01", notes=[])
    payload = json.dumps(body).encode()
    return (
        gateway,
        payload,
        {
            "HTTP_X_RAZORPAY_SIGNATURE": razorpay_sign(payload, RAZORPAY_SECRET),
            "HTTP_X_RAZORPAY_EVENT_ID": headers["HTTP_X_RAZORPAY_EVENT_ID"] + "restated",
        },
    )


def test_a_refund_the_provider_states_in_another_currency_is_not_counted(
    staff, paid, events, order_service, caplog
):
    assert refund(staff, paid, "r-euro").status_code == 201
    wait_for(events, 1)
    genuine = events.pop()
    events.append(restated(genuine, "EUR"))

    with caplog.at_level(logging.ERROR, logger="shop.payments"):
        assert deliver_all(events) == ["refund_currency_mismatch"]

    assert "is in EUR at " in caplog.text
    assert "but the payment is in USD" in caplog.text
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == (PaymentStatus.SUCCEEDED, Decimal("0"))
    assert Refund.objects.get().status == RefundStatus.PENDING, "left for a person to look at"
    assert order_service.orders[paid.order_id]["status"] == "PAID"
    assert WebhookEvent.objects.filter(outcome="refund_currency_mismatch").count() == 1
    # Still pending, so still counted against what is left: it cannot be given back twice.
    assert refund(staff, paid, "r-euro-again").status_code == 409
    events.append(genuine)  # the provider's own word, in the payment's currency, settles it
    assert deliver_all(events) == ["refunded"]
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == (PaymentStatus.REFUNDED, Decimal("53.20"))


def test_a_refund_made_at_the_provider_in_another_currency_is_not_recorded(staff, paid, events):
    assert refund(staff, paid, "r-ours", amount="5.00").status_code == 201
    wait_for(events, 1)
    events.append(restated(events.pop(), "JPY", at_provider=True))

    assert deliver_all(events) == ["refund_currency_mismatch"]

    # Not 500.00 "USD" of a refund of 500 yen: amounts in two currencies are never added.
    assert list(Refund.objects.values_list("requested_by", "amount")) == [
        ("staff:7", Decimal("5.00"))
    ]
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == (PaymentStatus.SUCCEEDED, Decimal("0"))


def test_reconciliation_does_not_count_a_refund_in_another_currency_either(
    staff, paid, events, monkeypatch
):
    assert refund(staff, paid, "r-recon").status_code == 201
    wait_for(events, 1)
    events.clear()  # the webhook is lost
    ours = Refund.objects.get()
    gateway = type(get_gateway(paid.gateway))
    monkeypatch.setattr(
        gateway,
        "fetch_refund",
        lambda self, reference: RefundUpdate(
            reference=reference,
            refund_id=ours.id,
            amount=Decimal("53.20"),
            succeeded=True,
            currency="EUR",
        ),
    )

    reconcile()
    reconcile()

    ours.refresh_from_db()
    assert ours.status == RefundStatus.PENDING
    outcomes = WebhookEvent.objects.filter(event_id__startswith="reconcile:")
    assert list(outcomes.values_list("outcome", flat=True)) == ["refund_currency_mismatch"]
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("0")


# --- never more than was captured ---------------------------------------------------------------


def provider_refund(payment: Payment, reference: str, minor_units: int):
    """A provider's signed event (each provider's real signature scheme, as the sandboxes sign)
    saying that a refund of ``minor_units`` that the shop never asked for (made at the provider's
    dashboard, or forged by whoever holds the webhook secret) succeeded."""
    now = int(time.time())
    if payment.gateway == "stripe":
        body = {
            "id": f"evt_{reference}",
            "object": "event",
            "type": "charge.refunded",
            "created": now,
            "data": {
                "object": {
                    "id": f"ch_{payment.pk}",
                    "object": "charge",
                    "amount": int(payment.amount * 100),
                    "amount_refunded": minor_units,
                    "currency": payment.currency.lower(),
                    "payment_intent": payment.provider_payment_id,
                    "metadata": {},
                    "refunds": {
                        "object": "list",
                        "data": [
                            {
                                "id": reference,
                                "object": "refund",
                                "amount": minor_units,
                                "currency": payment.currency.lower(),
                                "status": "succeeded",
                                "metadata": {},
                            }
                        ],
                    },
                }
            },
        }
        payload = json.dumps(body).encode()
        return "stripe", payload, {"HTTP_STRIPE_SIGNATURE": stripe_sign(payload, STRIPE_SECRET)}
    body = {
        "entity": "event",
        "account_id": "acc_test",
        "event": "refund.processed",
        "contains": ["refund", "payment"],
        "payload": {
            "refund": {
                "entity": {
                    "id": reference,
                    "entity": "refund",
                    "amount": minor_units,
                    "currency": payment.currency,
                    "payment_id": payment.provider_payment_id,
                    "notes": [],
                    "status": "processed",
                }
            }
        },
        "created_at": now,
    }
    payload = json.dumps(body).encode()
    headers = {
        "HTTP_X_RAZORPAY_SIGNATURE": razorpay_sign(payload, RAZORPAY_SECRET),
        "HTTP_X_RAZORPAY_EVENT_ID": f"evt_{reference}",
    }
    return "razorpay", payload, headers


def refunds_counted(gateway: str, outcome: str) -> float:
    from prometheus_client import REGISTRY

    labels = {"gateway": gateway, "outcome": outcome}
    return REGISTRY.get_sample_value("shop_refunds_total", labels) or 0


def test_a_signed_refund_past_what_was_captured_is_recorded_as_rejected_and_not_applied(
    staff, paid, events, order_service
):
    """The attack of the review: a fully refunded payment, then a signed refund event with a new
    refund id for far more (Razorpay refund.processed of 10,000,000.00; Stripe charge.refunded of
    10,000.00). Acknowledged (the provider stops retrying), applied to nothing, and alerted on."""
    assert refund(staff, paid, "r-all").status_code == 201
    wait_for(events, 1)
    assert deliver_all(events) == ["refunded"]
    rejected_before = refunds_counted(paid.gateway, "rejected")
    huge = 1_000_000_000 if paid.gateway == "razorpay" else 1_000_000

    outcome = deliver_next([provider_refund(paid, "rfnd_attack01", huge)])

    assert outcome == "refund_rejected"
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == (PaymentStatus.REFUNDED, Decimal("53.20"))
    assert paid.refunds.count() == 1, "no refund recorded for it"
    event = WebhookEvent.objects.get(event_id="evt_rfnd_attack01")
    assert event.outcome == "refund_rejected"
    assert event.rejection_reason == (
        f"refund rfnd_attack01 of {Decimal(huge) / 100:.2f} USD is more than is left to refund "
        "(0.00 USD)"
    )
    assert refunds_counted(paid.gateway, "rejected") == rejected_before + 1
    assert order_service.refunded.call_count == 1


def test_a_refund_made_at_the_providers_dashboard_is_applied_within_the_bound_and_flagged(
    staff, paid, events, order_service
):
    made_before = refunds_counted(paid.gateway, "provider")

    first = deliver_next([provider_refund(paid, "rfnd_dashboard1", 1000)])
    too_much = deliver_next([provider_refund(paid, "rfnd_dashboard2", 4321)])
    rest = deliver_next([provider_refund(paid, "rfnd_dashboard3", 4320)])

    assert (first, too_much, rest) == ("partially_refunded", "refund_rejected", "refunded")
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == (PaymentStatus.REFUNDED, Decimal("53.20"))
    shown = staff.get(f"/payments/{paid.pk}/").json()
    assert [(r["origin"], r["amount"], r["status"]) for r in shown["refunds"]] == [
        ("provider", "10.00", "SUCCEEDED"),
        ("provider", "43.20", "SUCCEEDED"),
    ]
    assert refunds_counted(paid.gateway, "provider") == made_before + 2
    assert order_service.orders[paid.order_id]["status"] == "REFUNDED"
    assert "more than is left to refund (43.20 USD)" in (
        WebhookEvent.objects.get(event_id="evt_rfnd_dashboard2").rejection_reason
    )


def test_a_dashboard_refund_cannot_take_what_a_pending_refund_of_ours_holds(staff, paid, events):
    assert refund(staff, paid, "r-most", amount="50.00").status_code == 201
    wait_for(events, 1)
    ours = events.pop()  # its confirmation is still on its way

    assert deliver_next([provider_refund(paid, "rfnd_dashboard4", 500)]) == "refund_rejected"
    assert deliver_next([ours]) == "partially_refunded"
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("50.00")


@pytest.mark.parametrize("minor_units", [0, -100_000])
def test_a_refund_of_nothing_or_less_is_a_malformed_event(paid, minor_units):
    gateway, payload, headers = provider_refund(paid, "rfnd_negative1", minor_units)

    response = APIClient().post(
        f"/webhook/{gateway}/", data=payload, content_type="application/json", **headers
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_event"
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("0")
    assert WebhookEvent.objects.get(outcome="rejected").rejection_reason


def test_the_database_refuses_a_refunded_amount_past_what_was_captured(paid):
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=paid.pk).update(refunded_amount=Decimal("53.21"))
