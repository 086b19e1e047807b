from typing import Any

from rest_framework import status

from shop_common.errors import ConflictError, ServiceError


class CartEmpty(ServiceError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "cart_empty"
    default_detail = "The cart is empty: add products before placing an order."


class CartCheckedOut(ConflictError):
    """Another checkout of this cart placed (or is placing) its order: that order, not a second."""

    default_code = "cart_checked_out"

    def __init__(self, order_id: int, order_number: str = "") -> None:
        super().__init__(
            f"This cart was checked out as order {order_number or order_id}.",
            details={"order_id": order_id, "order_number": order_number},
        )


class CartCheckoutUnderWay(ConflictError):
    default_code = "cart_checkout_in_progress"
    default_detail = (
        "Another checkout of this cart is placing its order now: that order is the one to pay "
        "(GET /orders/history/); send this checkout again to be answered with it."
    )


class NoPendingOrder(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "order_not_found"
    default_detail = "You have no order waiting for payment."


class Downstream(ServiceError):
    """Another service's refusal, passed on with its own status and error (404, 409, 400...)."""

    def __init__(self, status_code: int, body: Any) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status_code = status_code
        super().__init__(
            error.get("message") or "Another service refused the request.",
            code=error.get("code") or "downstream_error",
            details=error.get("details") or {},
        )
