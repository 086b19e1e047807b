from shop_common.errors import ConflictError, ResourceNotFoundException


class OrderNotFound(ResourceNotFoundException):
    def __init__(self, order_id: object) -> None:
        super().__init__("order", order_id)


class ProductsNotFound(ResourceNotFoundException):
    def __init__(self, product_ids: list[int]) -> None:
        super().__init__(
            "product",
            details={"product_ids": product_ids},
            message="Some products do not exist or are not for sale.",
        )


class IllegalTransition(ConflictError):
    default_code = "illegal_transition"

    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(
            f"An order cannot go from {from_status} to {to_status}.",
            details={"from": from_status, "to": to_status},
        )


class OrderNotPayable(ConflictError):
    default_code = "order_not_payable"
    default_detail = "The order can no longer be paid; the payment must be refunded."


class PaymentReferenceMismatch(ConflictError):
    default_code = "payment_reference_mismatch"
    default_detail = "This order was paid by another payment."
