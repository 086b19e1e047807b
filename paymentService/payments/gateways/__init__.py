"""The configured payment gateway (``PAYMENT_GATEWAY``), never chosen at random. A second provider
(Razorpay, say) is a new module implementing ``interface.PaymentGateway`` and one line here."""

from functools import cache

from django.conf import settings

from payments.gateways.interface import PaymentGateway


@cache
def _registry() -> dict[str, type]:
    from payments.gateways.stripe_checkout import StripeCheckoutGateway

    return {"stripe": StripeCheckoutGateway}


def get_gateway(name: str | None = None) -> PaymentGateway:
    return _registry()[name or settings.PAYMENT_GATEWAY]()
