from rest_framework import status

from shop_common.errors import ConflictError, ResourceNotFoundException, ServiceError


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
