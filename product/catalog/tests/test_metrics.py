"""What the product service counts (docs/observability.md)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from prometheus_client import REGISTRY

from catalog.apps import reservation_gauges
from catalog.models import Reservation
from catalog.tests.factories import ProductFactory
from catalog.tests.test_stock import reserve

pytestmark = pytest.mark.django_db


def reservations(outcome: str) -> float:
    return REGISTRY.get_sample_value("shop_stock_reservations_total", {"outcome": outcome}) or 0


def gauges() -> dict[str, float]:
    return {
        sample.labels.get("state", sample.name): sample.value
        for family in reservation_gauges()
        for sample in family.samples
    }


def test_reservations_are_counted_by_outcome(
    as_service, category, django_capture_on_commit_callbacks
):
    product = ProductFactory(category=category, stock_on_hand=3)
    client = as_service()
    before = {o: reservations(o) for o in ("granted", "refused", "committed", "released")}

    with django_capture_on_commit_callbacks(execute=True):
        reserve(client, "PAID-1", (product, 1))
        reserve(client, "PAID-1", (product, 1))  # the same reference again: not a second grant
        reserve(client, "CANCELLED-1", (product, 1))
        reserve(client, "TOO-MANY", (product, 5))
        client.post("/internal/stock/commit/", {"order_ref": "PAID-1"})
        client.post("/internal/stock/release/", {"order_ref": "CANCELLED-1"})

    assert {o: reservations(o) - before[o] for o in before} == {
        "granted": 2,
        "refused": 1,
        "committed": 1,
        "released": 1,
    }


def test_held_overdue_and_expired_reservations_are_read_from_the_table(as_service, category):
    product = ProductFactory(category=category, stock_on_hand=10)
    client = as_service()
    for ref in ("CURRENT", "OVERDUE", "EXPIRED"):
        reserve(client, ref, (product, 1))
    Reservation.objects.filter(order_ref__in=["OVERDUE", "EXPIRED"]).update(
        expires_at=timezone.now() - timedelta(minutes=5)
    )
    call_command("release_expired_reservations")
    reserve(client, "OVERDUE-2", (product, 1))
    Reservation.objects.filter(order_ref="OVERDUE-2").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    assert gauges() == {
        "current": 1,
        "overdue": 1,
        "shop_stock_reservations_expired_last_hour": 2,
    }
