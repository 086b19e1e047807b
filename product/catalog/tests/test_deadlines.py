"""A reservation its caller has stopped waiting for is never held (docs/catalog.md)."""

import time

import pytest

from catalog.models import Product, Reservation, ReservationLine
from catalog.tests.factories import ProductFactory
from shop_common import deadlines

pytestmark = pytest.mark.django_db


def reserve(client, product, *, deadline_in: float):
    return client.post(
        "/internal/stock/reserve/",
        {"order_ref": "ORD-LATE", "lines": [{"product_id": product.id, "quantity": 2}]},
        HTTP_X_REQUEST_DEADLINE=deadlines.format_deadline(time.time() + deadline_in),
    )


def test_a_reserve_arriving_after_its_deadline_is_refused_before_any_work(as_service, category):
    product = ProductFactory(category=category, stock_on_hand=5)

    response = reserve(as_service(), product, deadline_in=-1)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "deadline_exceeded"
    assert not Reservation.objects.exists()


def test_a_reservation_whose_deadline_passes_while_it_is_made_is_rolled_back(
    as_service, category, monkeypatch
):
    product = ProductFactory(category=category, stock_on_hand=5)
    saving = ReservationLine.objects.bulk_create

    def slow_save(lines):
        time.sleep(deadlines.time_left() + 0.05)
        return saving(lines)

    monkeypatch.setattr("catalog.models.ReservationLine.objects.bulk_create", slow_save)

    response = reserve(as_service(), product, deadline_in=1)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "deadline_exceeded"
    assert not Reservation.objects.exists()
    assert Product.objects.get(pk=product.pk).stock_reserved == 0
