from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.urls import register_converter


def _forget_clients_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("SERVICE_"):
        from shop_common.service_client import reset_service_clients

        reset_service_clients()


class ShopCommonConfig(AppConfig):
    name = "shop_common"
    verbose_name = "Shop common"

    def ready(self) -> None:
        from shop_common import schema  # noqa: F401 (registers the OpenAPI extensions)

        setting_changed.connect(_forget_clients_on_setting_change)
        # ``<id:...>`` in every service's URLs (shop_common.fields.IdConverter); apps are ready
        # before any URLconf is imported.
        from shop_common.fields import IdConverter

        register_converter(IdConverter, "id")
        from shop_common import metrics, tracing

        metrics.count_database_queries()
        tracing.configure()
