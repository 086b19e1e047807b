from collections.abc import Iterator

from django.apps import AppConfig
from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily


def reservation_gauges() -> Iterator[GaugeMetricFamily]:
    """Read from the database when /metrics is read: the expiry job runs in a process of its own
    (a CronJob), whose counters no scrape sees, so whether it keeps up is asked of the data."""
    from catalog.selectors import reservation_counts

    try:
        counts = reservation_counts()
    except DatabaseError:
        return  # /health/ says the database is down; the rest of /metrics still answers
    held = GaugeMetricFamily(
        "shop_stock_reservations_held",
        "Reservations holding stock now: current, or overdue (past their expiry, not yet "
        "released by release_expired_reservations).",
        labels=["state"],
    )
    held.add_metric(["current"], counts["current"])
    held.add_metric(["overdue"], counts["overdue"])
    yield held
    yield GaugeMetricFamily(
        "shop_stock_reservations_expired_last_hour",
        "Reservations released because they expired unpaid, whose expiry fell in the last hour.",
        value=counts["expired_last_hour"],
    )


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from shop_common import metrics

        metrics.add_scrape_collector(reservation_gauges)
