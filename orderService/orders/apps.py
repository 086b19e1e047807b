from django.apps import AppConfig
from django.core.signals import request_finished


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from orders.outbox import drain_after_response

        request_finished.connect(drain_after_response, dispatch_uid="orders.outbox.drain")
