"""Small helpers the end-to-end tests share."""

import time

import httpx

from shop_common.processes import Stack

ADDRESS = {
    "street": "1 Main St",
    "city": "Springfield",
    "state": "IL",
    "zip_code": "62701",
    "country": "US",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for_order_status(
    stack: Stack, token: str, order_id: int, wanted: str, timeout: float = 20
) -> dict:
    """The order once it has ``wanted`` status (a webhook moves it a moment after the page does),
    or as it is after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        order = httpx.get(f"{stack.url('order')}/orders/{order_id}/", headers=bearer(token)).json()
        if order["status"] == wanted or time.monotonic() > deadline:
            return order
        time.sleep(0.2)
