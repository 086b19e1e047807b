"""The payment service's calls to the order service's internal API (service token, scope internal)."""

from typing import Any

from shop_common.errors import DependencyUnavailable
from shop_common.service_tokens import internal_request


class OrderRefused(Exception):
    """The order service answered with a business refusal (409): nothing to retry."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def get_order(order_id: int) -> dict[str, Any] | None:
    response = internal_request("order", "GET", f"/internal/orders/{order_id}/")
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise DependencyUnavailable("order", reason=f"order lookup answered {response.status_code}")
    return response.json()


def report_payment(
    order_id: int, *, succeeded: bool, payment_reference: str, reason: str = ""
) -> dict[str, Any]:
    """Tells the order service; both calls are idempotent by payment reference, so they are retried."""
    path = f"/internal/orders/{order_id}/{'payment-succeeded' if succeeded else 'payment-failed'}/"
    body = {"payment_reference": payment_reference, **({"reason": reason} if reason else {})}
    response = internal_request("order", "POST", path, json=body, idempotent=True)
    if response.status_code == 200:
        return response.json()
    if response.status_code in (404, 409):
        raise OrderRefused(response.json().get("error", {}).get("code", str(response.status_code)))
    raise DependencyUnavailable("order", reason=f"{path} answered {response.status_code}")


def report_refund(order_id: int, *, payment_reference: str) -> dict[str, Any]:
    """The payment that paid the order went back in full; idempotent by reference, so retried."""
    path = f"/internal/orders/{order_id}/refunded/"
    response = internal_request(
        "order", "POST", path, json={"payment_reference": payment_reference}, idempotent=True
    )
    if response.status_code == 200:
        return response.json()
    if response.status_code in (404, 409):
        raise OrderRefused(response.json().get("error", {}).get("code", str(response.status_code)))
    raise DependencyUnavailable("order", reason=f"{path} answered {response.status_code}")
