"""Compensation: no reservation outlives an order that was cancelled or a placement that failed,
even when the product service is down or slow at that moment (docs/orders.md, "Compensation")."""

import time
from datetime import timedelta

import httpx
import pytest
from django.core.management import call_command
from django.utils import timezone

from orders import outbox, services
from orders.models import Order, OrderStatus, OutboxCall
from shop_common import deadlines
from shop_common.service_client import reset_service_clients
from shop_common.testing.data import ADDRESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def kettle(product_service):
    return product_service.add(title="Kettle", sku="KET-1", price="64.90", available=5)


def place(client, product_id, quantity, *, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/orders/",
        {"items": [{"product_id": product_id, "quantity": quantity}], "shipping_address": ADDRESS},
        **headers,
    )


def answer_lost(product_service):
    """The product service reserves, but its answer never arrives (a timeout on our side)."""

    def reserve(request: httpx.Request) -> httpx.Response:
        product_service._reserve(request)
        raise httpx.ReadTimeout("the answer was lost")

    product_service.reserve.side_effect = reserve


def pending() -> list[OutboxCall]:
    return list(OutboxCall.objects.filter(done_at=None))


# --- cancellations ---------------------------------------------------------------------------


def test_a_cancel_while_the_product_service_is_down_cancels_and_leaves_the_release_pending(
    customer, kettle, product_service
):
    order = place(customer, kettle, 2).json()
    product_service.down = True

    response = customer.post(f"/orders/{order['id']}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    assert product_service.reservations[order["order_number"]]["status"] == "RESERVED"
    (call,) = pending()
    assert (call.kind, call.order_ref, call.attempts) == (
        "release_stock",
        order["order_number"],
        1,
    )
    assert "unreachable" in call.last_error
    assert call.next_attempt_at > timezone.now()


def test_the_drain_delivers_the_release_once_the_product_service_is_back(
    customer, kettle, product_service
):
    order = place(customer, kettle, 2).json()
    product_service.down = True
    customer.post(f"/orders/{order['id']}/cancel/")
    product_service.down = False

    call_command("drain_outbox")

    assert product_service.reservations[order["order_number"]]["status"] == "RELEASED"
    assert product_service.products[kettle]["available"] == 5
    call = OutboxCall.objects.get()
    assert call.done_at is not None
    assert call.attempts == 2


def test_a_cancel_that_reaches_the_product_service_is_done_at_once(
    customer, kettle, product_service
):
    order = place(customer, kettle, 2).json()

    customer.post(f"/orders/{order['id']}/cancel/")

    assert product_service.reservations[order["order_number"]]["status"] == "RELEASED"
    assert pending() == []


def test_the_retry_pause_grows_to_at_most_a_minute(customer, kettle, product_service):
    order = place(customer, kettle, 1).json()
    product_service.down = True
    customer.post(f"/orders/{order['id']}/cancel/")

    for _ in range(6):
        OutboxCall.objects.update(next_attempt_at=timezone.now())
        started = timezone.now()
        outbox.drain()
        call = OutboxCall.objects.get()
        assert call.next_attempt_at - started <= timedelta(seconds=outbox.MAX_PAUSE_SECONDS + 1)

    assert call.attempts == 7
    assert call.done_at is None


def test_the_drain_stops_at_the_first_call_the_product_service_does_not_take(product_service):
    for ref in ("ORD-A", "ORD-B", "ORD-C"):
        outbox.record_release(order_ref=ref)
    product_service.down = True

    delivered, left = outbox.drain()

    assert (delivered, left) == (0, 3)
    assert product_service.release.call_count == 3  # one call, three attempts (retries)
    assert sorted(OutboxCall.objects.values_list("attempts", flat=True)) == [0, 0, 1]


def test_a_release_of_a_reservation_that_never_arrived_is_done(product_service):
    outbox.record_release(order_ref="ORD-NEVER")

    assert outbox.drain() == (1, 0)
    assert OutboxCall.objects.get().last_error == "reservation_not_found"


def test_the_same_release_recorded_twice_is_one_call(product_service):
    first = outbox.record_release(order_ref="ORD-TWICE")
    second = outbox.record_release(order_ref="ORD-TWICE")

    assert first.pk == second.pk
    assert OutboxCall.objects.count() == 1


def test_the_product_service_answering_again_drains_the_outbox_after_the_response(
    customer, kettle, product_service
):
    cancelled = place(customer, kettle, 1).json()
    product_service.down = True
    customer.post(f"/orders/{cancelled['id']}/cancel/")
    product_service.down = False
    OutboxCall.objects.update(next_attempt_at=timezone.now())

    # Any call that reaches the product service: the pending release follows the response.
    assert place(customer, kettle, 1).status_code == 201

    assert product_service.reservations[cancelled["order_number"]]["status"] == "RELEASED"
    assert pending() == []


def test_after_a_response_only_calls_whose_pause_is_over_are_tried(
    customer, kettle, product_service
):
    cancelled = place(customer, kettle, 1).json()
    product_service.down = True
    customer.post(f"/orders/{cancelled['id']}/cancel/")
    product_service.down = False

    assert place(customer, kettle, 1).status_code == 201

    assert product_service.reservations[cancelled["order_number"]]["status"] == "RESERVED"
    assert len(pending()) == 1


# --- placements the caller is told failed ----------------------------------------------------


def test_a_reservation_whose_answer_was_lost_is_released_at_once_and_no_order_is_left(
    customer, kettle, product_service
):
    answer_lost(product_service)

    response = place(customer, kettle, 2)

    assert response.status_code == 503
    assert response.json()["error"]["details"]["service"] == "product"
    assert not Order.objects.exists()
    (reservation,) = product_service.reservations.values()
    assert reservation["status"] == "RELEASED"
    assert product_service.products[kettle]["available"] == 5
    assert pending() == []


def test_when_the_release_cannot_be_delivered_either_the_outbox_keeps_it(
    customer, kettle, product_service
):
    def reserve_then_go_down(request: httpx.Request) -> httpx.Response:
        product_service._reserve(request)
        product_service.down = True
        raise httpx.ReadTimeout("the answer was lost")

    product_service.reserve.side_effect = reserve_then_go_down

    assert place(customer, kettle, 2).status_code == 503

    (call,) = pending()
    assert product_service.reservations[call.order_ref]["status"] == "RESERVED"
    product_service.down = False
    reset_service_clients()  # the drain runs in a process of its own, whose breaker is closed
    call_command("drain_outbox")
    assert product_service.reservations[call.order_ref]["status"] == "RELEASED"
    assert not Order.objects.exists()


def test_an_order_whose_deadline_passes_before_it_is_saved_is_not_saved(
    customer, kettle, product_service, monkeypatch, settings
):
    # Time enough to price and reserve on a loaded machine; the save then sleeps past it. (The
    # service's own budget: a customer's X-Request-Deadline is ignored.)
    settings.REQUEST_BUDGET_SECONDS = 3
    saving = Order.objects.create

    def slow_create(**fields):
        time.sleep(deadlines.time_left() + 0.05)
        return saving(**fields)

    monkeypatch.setattr("orders.models.Order.objects.create", slow_create)

    response = customer.post(
        "/orders/",
        {"items": [{"product_id": kettle, "quantity": 2}], "shipping_address": ADDRESS},
    )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "deadline_exceeded"
    assert not Order.objects.exists()
    # No time was left to release it within the request, so the release went to the outbox (the
    # drain after the response may already have delivered it: the product service had answered).
    (call,) = OutboxCall.objects.filter(kind=OutboxCall.Kind.RELEASE_STOCK)
    call_command("drain_outbox")
    call.refresh_from_db()
    assert call.done_at is not None
    assert product_service.reservations[call.order_ref]["status"] == "RELEASED"


def test_a_retry_with_the_same_key_after_a_failed_placement_reserves_afresh(
    customer, kettle, product_service
):
    answer_lost(product_service)
    assert place(customer, kettle, 2, key="k-1").status_code == 503
    product_service.reserve.side_effect = product_service._reserve

    retried = place(customer, kettle, 2, key="k-1")
    again = place(customer, kettle, 2, key="k-1")

    assert retried.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == retried.json()["id"]
    number = retried.json()["order_number"]
    assert number != services.order_number_for(user_id=41, idempotency_key="k-1")
    assert product_service.reservations[number]["status"] == "RESERVED"
    assert product_service.products[kettle]["available"] == 3
    assert Order.objects.get().status == OrderStatus.PENDING
