"""The payment state machine (one move function, a table, a history row per move) and minor units by
currency (one ISO 4217 table, used for every amount to and from a provider)."""

import json
from dataclasses import replace
from decimal import Decimal
from itertools import product

import pytest
from stripe_sandbox.app import sign

from payments.currencies import AmountNotRepresentable, from_minor_units, to_minor_units
from payments.exceptions import IllegalPaymentTransition
from payments.gateways import get_gateway, stripe_config
from payments.gateways.interface import InvalidSignature
from payments.gateways.stripe_checkout import StripeCheckoutGateway
from payments.models import TRANSITIONS, Payment, PaymentStatus
from payments.services.transitions import move_payment

pytestmark = pytest.mark.django_db


def a_payment(status: str) -> Payment:
    return Payment.objects.create(
        order_id=1,
        open_for_order=1 if status in (PaymentStatus.CREATED, PaymentStatus.PENDING) else None,
        user_id=1,
        amount=Decimal("10.00"),
        currency="USD",
        gateway="stripe",
        status=status,
    )


@pytest.mark.parametrize(("start", "to"), list(product(PaymentStatus.values, repeat=2)))
def test_every_move_follows_the_table(start, to):
    payment = a_payment(start)

    if to in TRANSITIONS[start]:
        move_payment(payment, to, reason="test")
        payment.refresh_from_db()
        assert payment.status == to
        change = payment.status_changes.get()
        assert (change.from_status, change.to_status, change.reason) == (start, to, "test")
    else:
        with pytest.raises(IllegalPaymentTransition) as refused:
            move_payment(payment, to)
        assert refused.value.details == {"from": start, "to": to}
        payment.refresh_from_db()
        assert payment.status == start
        assert not payment.status_changes.exists()


def test_every_status_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(PaymentStatus.values)


def test_leaving_the_open_states_frees_the_order_for_another_payment():
    payment = a_payment(PaymentStatus.PENDING)

    move_payment(payment, PaymentStatus.EXPIRED)

    payment.refresh_from_db()
    assert payment.open_for_order is None


# --- minor units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("1500", "JPY", 1500),  # exponent 0
        ("53.20", "USD", 5320),  # exponent 2
        ("0.01", "EUR", 1),
        ("12.35", "KWD", 12350),  # exponent 3
        ("1.234", "BHD", 1234),
        ("7.50", "XYZ", 750),  # unknown: ISO's default of two
    ],
)
def test_amounts_go_to_minor_units_by_the_currencys_exponent(amount, currency, minor):
    assert to_minor_units(Decimal(amount), currency) == minor
    assert from_minor_units(minor, currency) == Decimal(amount)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(1500, "jpy", "1500"), (5320, "usd", "53.20"), (12350, "kwd", "12.350")],
)
def test_minor_units_come_back_with_the_currencys_decimals(minor, currency, text):
    assert str(from_minor_units(minor, currency)) == text


@pytest.mark.parametrize(
    ("amount", "currency"), [("10.50", "JPY"), ("0.001", "USD"), ("1.0001", "KWD")]
)
def test_an_amount_finer_than_the_minor_unit_is_refused(amount, currency):
    with pytest.raises(AmountNotRepresentable):
        to_minor_units(Decimal(amount), currency)


@pytest.mark.parametrize(
    ("gateway", "currency", "total", "sent"),
    [
        ("stripe", "JPY", "1500.00", "1500"),
        ("stripe", "KWD", "12.35", "12350"),
        ("razorpay", "JPY", "1500.00", 1500),
        ("razorpay", "KWD", "12.35", 12350),
        ("razorpay", "USD", "53.20", 5320),
    ],
)
def test_each_gateway_is_sent_the_currencys_minor_units(
    customer, order_service, sandbox, razorpay_sandbox, gateway, currency, total, sent
):
    order_id = order_service.add(user_id=41, total=total, currency=currency)

    response = customer.post("/service/", {"order_id": order_id, "gateway": gateway})

    assert response.status_code == 201, response.json()
    if gateway == "stripe":
        assert sandbox.received[-1]["line_items"][0]["price_data"]["unit_amount"] == sent
    else:
        assert razorpay_sandbox.received[-1]["amount"] == sent


@pytest.mark.parametrize(
    ("gateway", "currency", "total"),
    [
        ("razorpay", "TND", "10.00"),  # Stripe takes it, Razorpay does not
        ("stripe", "XOF", "1000.00"),  # neither does
        ("razorpay", "XOF", "1000.00"),
        ("stripe", "JPY", "10.50"),  # there is no half yen
    ],
)
def test_a_currency_the_gateway_does_not_take_is_a_400_at_initiation(
    customer, order_service, sandbox, razorpay_sandbox, gateway, currency, total
):
    order_id = order_service.add(user_id=41, total=total, currency=currency)

    response = customer.post("/service/", {"order_id": order_id, "gateway": gateway})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "currency_not_supported"
    assert error["details"] == {"gateway": gateway, "currency": currency}
    assert Payment.objects.count() == 0


def test_a_gateway_is_built_once_per_configuration_and_again_when_its_settings_change(settings):
    stripe = get_gateway("stripe")
    assert get_gateway("stripe") is stripe
    assert get_gateway("razorpay") is get_gateway("razorpay")

    settings.STRIPE_API_BASE = "http://127.0.0.1:9/"

    rebuilt = get_gateway("stripe")
    assert rebuilt is not stripe
    assert rebuilt.client._requestor.base_addresses["api"] == "http://127.0.0.1:9/"


def test_a_gateway_uses_the_config_it_is_handed_not_the_settings(settings):
    """Each gateway is handed its configuration: one built from another config verifies with that
    config's secret, whatever the settings hold."""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_from_the_settings"
    handed = replace(stripe_config(), webhook_secret="whsec_handed_over")
    gateway = StripeCheckoutGateway(handed)
    payload = json.dumps({"id": "evt_1", "type": "x", "data": {"object": {"id": "cs_1"}}}).encode()

    gateway.verify_signature(payload, {"Stripe-Signature": sign(payload, "whsec_handed_over")})
    with pytest.raises(InvalidSignature):
        gateway.verify_signature(
            payload, {"Stripe-Signature": sign(payload, "whsec_from_the_settings")}
        )
