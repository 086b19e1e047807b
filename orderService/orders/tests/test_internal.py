"""The internal order API of the payment service: amounts, and payment outcomes applied once."""

import pytest
from rest_framework.test import APIClient

from orders.models import Order
from shop_common.testing.data import ADDRESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(user_service, product_service):
    kettle = product_service.add(price="20.00", available=5)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {user_service.token_for('CUSTOMER', user_id=41)}"
    )
    body = {"items": [{"product_id": kettle, "quantity": 2}], "shipping_address": ADDRESS}
    return client.post("/orders/", body, format="json").json()


@pytest.fixture
def payments(api_client, user_service):
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {user_service.service_token('internal', client_id='shop-payment')}"
    )
    api_client.default_format = "json"
    return api_client


def test_the_payment_service_reads_amount_currency_status_and_owner(payments, order):
    answer = payments.get(f"/internal/orders/{order['id']}/").json()

    assert answer["total_amount"] == "53.20"  # 40.00 + 3.20 tax + 10.00 shipping
    assert (answer["currency"], answer["status"], answer["user_id"]) == ("USD", "PENDING", 41)


def test_payment_succeeded_commits_the_stock_once(payments, order, product_service):
    first = payments.post(
        f"/internal/orders/{order['id']}/payment-succeeded/", {"payment_reference": "pay_1"}
    )
    again = payments.post(
        f"/internal/orders/{order['id']}/payment-succeeded/", {"payment_reference": "pay_1"}
    )

    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["status"], first.json()["changed"], again.json()["changed"]) == (
        "PAID",
        True,
        False,
    )
    assert product_service.reservations[order["order_number"]]["status"] == "COMMITTED"
    assert product_service.commit.call_count == 1


def test_a_second_payment_of_a_paid_order_is_refused(payments, order):
    payments.post(
        f"/internal/orders/{order['id']}/payment-succeeded/", {"payment_reference": "pay_1"}
    )

    response = payments.post(
        f"/internal/orders/{order['id']}/payment-succeeded/", {"payment_reference": "pay_2"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_payable"


def test_payment_after_expiry_is_order_not_payable_and_flagged_for_refund(
    payments, order, product_service
):
    payments.post(f"/internal/orders/{order['id']}/payment-failed/", {"payment_reference": "pay_0"})

    response = payments.post(
        f"/internal/orders/{order['id']}/payment-succeeded/", {"payment_reference": "pay_1"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_payable"
    assert Order.objects.get(pk=order["id"]).needs_refund


def test_payment_succeeded_when_the_reservation_already_ended_cancels_and_flags(
    payments, order, product_service
):
    product_service.reservations[order["order_number"]]["status"] = (
        "RELEASED"  # expired in the product service
    )

    response = payments.post(
        f"/internal/orders/{order['id']}/payment-succeeded/", {"payment_reference": "pay_1"}
    )

    assert response.status_code == 409
    stored = Order.objects.get(pk=order["id"])
    assert (stored.status, stored.needs_refund) == ("CANCELLED", True)


def test_payment_failed_cancels_releases_and_is_idempotent(payments, order, product_service):
    first = payments.post(
        f"/internal/orders/{order['id']}/payment-failed/",
        {"payment_reference": "pay_1", "reason": "card declined"},
    )
    again = payments.post(
        f"/internal/orders/{order['id']}/payment-failed/", {"payment_reference": "pay_1"}
    )

    assert (first.json()["status"], first.json()["changed"], again.json()["changed"]) == (
        "CANCELLED",
        True,
        False,
    )
    assert product_service.reservations[order["order_number"]]["status"] == "RELEASED"


def test_payment_failed_after_paid_changes_nothing(payments, order):
    payments.post(
        f"/internal/orders/{order['id']}/payment-succeeded/", {"payment_reference": "pay_1"}
    )

    response = payments.post(
        f"/internal/orders/{order['id']}/payment-failed/", {"payment_reference": "pay_1"}
    )

    assert response.status_code == 409
    assert Order.objects.get(pk=order["id"]).status == "PAID"


def test_product_service_down_during_commit_is_a_503_and_the_order_stays_pending(
    payments, order, product_service
):
    product_service.down = True

    response = payments.post(
        f"/internal/orders/{order['id']}/payment-succeeded/", {"payment_reference": "pay_1"}
    )

    assert response.status_code == 503
    assert Order.objects.get(pk=order["id"]).status == "PENDING"


@pytest.mark.parametrize("later", [[], ["CONFIRMED"], ["CONFIRMED", "SHIPPED", "DELIVERED"]])
def test_a_full_refund_moves_a_paid_or_later_order_to_refunded_once(
    payments, order, product_service, later
):
    payments.post(
        f"/internal/orders/{order['id']}/payment-succeeded/", {"payment_reference": "pay_1"}
    )
    Order.objects.filter(pk=order["id"]).update(status=(later or ["PAID"])[-1])

    first = payments.post(
        f"/internal/orders/{order['id']}/refunded/", {"payment_reference": "pay_1"}
    )
    again = payments.post(
        f"/internal/orders/{order['id']}/refunded/", {"payment_reference": "pay_1"}
    )

    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["status"], first.json()["changed"], again.json()["changed"]) == (
        "REFUNDED",
        True,
        False,
    )
    events = Order.objects.get(pk=order["id"]).events.filter(to_status="REFUNDED")
    assert [event.by for event in events] == ["service:shop-payment"]
    assert product_service.release.call_count == 0  # no restock (docs/orders.md, "Refunds")


@pytest.mark.parametrize("cancelled", [False, True])
def test_an_order_that_was_never_paid_cannot_be_refunded(payments, order, cancelled):
    if cancelled:
        payments.post(
            f"/internal/orders/{order['id']}/payment-failed/", {"payment_reference": "pay_0"}
        )

    response = payments.post(
        f"/internal/orders/{order['id']}/refunded/", {"payment_reference": "pay_0"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "illegal_transition"


def test_a_refund_of_another_payment_does_not_refund_the_order(payments, order):
    payments.post(
        f"/internal/orders/{order['id']}/payment-succeeded/", {"payment_reference": "pay_1"}
    )

    response = payments.post(
        f"/internal/orders/{order['id']}/refunded/", {"payment_reference": "pay_2"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payment_reference_mismatch"
    assert Order.objects.get(pk=order["id"]).status == "PAID"


def test_unknown_order_is_404(payments, db, product_service):
    assert payments.get("/internal/orders/424242/").status_code == 404
    for outcome in ("payment-succeeded", "payment-failed", "refunded"):
        response = payments.post(
            f"/internal/orders/424242/{outcome}/", {"payment_reference": "pay_1"}
        )
        assert (response.status_code, response.json()["error"]["code"]) == (404, "order_not_found")
    assert product_service.commit.call_count == 0


def test_a_payment_outcome_runs_only_the_statements_it_needs(
    payments, order, django_assert_num_queries
):
    """Read (decides whether the stock is committed), then under the row lock read it again,
    write it and its event: no lookup of the order of its own in the view (docs/development.md,
    "Counting SQL statements"). Counted here besides those four: the transaction's
    savepoint and its release (the test runs in a transaction) and, after the response, the
    outbox's "anything due?" (orders.outbox.drain_after_response)."""
    with django_assert_num_queries(7):
        answer = payments.post(
            f"/internal/orders/{order['id']}/payment-succeeded/", {"payment_reference": "pay_1"}
        )
    assert answer.json()["changed"] is True


@pytest.mark.parametrize(
    ("caller", "status"), [("nobody", 401), ("customer", 401), ("staff", 401), ("no scope", 403)]
)
@pytest.mark.parametrize(
    "path",
    [
        "/internal/orders/{id}/",
        "/internal/orders/{id}/payment-succeeded/",
        "/internal/orders/{id}/payment-failed/",
        "/internal/orders/{id}/refunded/",
    ],
)
def test_internal_endpoints_refuse_people_and_services_without_scope(
    api_client, user_service, order, caller, status, path
):
    token = {
        "nobody": None,
        "customer": user_service.token_for("CUSTOMER", user_id=41),
        "staff": user_service.token_for("STAFF", "ADMIN"),
        "no scope": user_service.service_token("introspection"),
    }[caller]
    if token:
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = path.format(id=order["id"])

    response = (
        api_client.get(url)
        if url.endswith(f"{order['id']}/")
        else api_client.post(url, {"payment_reference": "x"}, format="json")
    )

    assert response.status_code == status
    assert Order.objects.get(pk=order["id"]).status == "PENDING"
