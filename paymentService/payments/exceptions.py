from rest_framework import status

from shop_common.errors import (
    ConflictError,
    IdempotencyKeyReused,
    ResourceNotFoundException,
    ServiceError,
)


class OrderNotFound(ResourceNotFoundException):
    def __init__(self, order_id: object) -> None:
        super().__init__("order", order_id)


class PaymentNotFound(ResourceNotFoundException):
    def __init__(self, payment_id: object) -> None:
        super().__init__("payment", payment_id)


class OrderNotPayable(ConflictError):
    default_code = "order_not_payable"
    default_detail = "Only a PENDING order can be paid."


class InvalidWebhookSignature(ServiceError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_signature"
    default_detail = "The webhook signature is missing, wrong or too old."


class InvalidWebhookEvent(ServiceError):
    """Signed by the provider but not of the shape it documents: recorded as rejected, not applied."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_event"
    default_detail = "The webhook event is not of a shape this service can apply."


class IllegalPaymentTransition(ConflictError):
    default_code = "illegal_transition"

    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(
            f"A payment cannot go from {from_status} to {to_status}.",
            details={"from": from_status, "to": to_status},
        )


class CurrencyNotSupported(ServiceError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "currency_not_supported"

    def __init__(self, gateway: str, currency: str, reason: str = "") -> None:
        super().__init__(
            reason or f"The gateway {gateway!r} does not take {currency}.",
            details={"gateway": gateway, "currency": currency},
        )


class PaymentOpenWithAnotherGateway(ConflictError):
    """One open payment per order (docs/payments.md, "Paying an order"): the open checkout must end
    first."""

    default_code = "payment_open"

    def __init__(self, payment_id: int, gateway: str, checkout_url: str) -> None:
        super().__init__(
            f"This order already has an open {gateway} checkout; pay or abandon it first.",
            details={"payment_id": payment_id, "gateway": gateway, "checkout_url": checkout_url},
        )


class PaymentNotRefundable(ConflictError):
    default_code = "payment_not_refundable"
    default_detail = "Only a payment whose money was captured can be refunded."


class RefundExceedsCaptured(ConflictError):
    default_code = "refund_exceeds_captured"
    default_detail = "A refund cannot give back more than was captured and not yet refunded."


class RefundKeyReused(IdempotencyKeyReused):
    default_detail = "This Idempotency-Key was used for another refund of this payment."


class RefundRefusedByProvider(ConflictError):
    default_code = "refund_refused"
    default_detail = "The payment provider refused the refund."
