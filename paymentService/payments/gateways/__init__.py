"""The gateways a payment can choose (``PAYMENT_GATEWAYS``; ``PAYMENT_GATEWAY`` when it names none),
never chosen at random. A provider is a module implementing ``interface.PaymentGateway`` and one
line here."""

from functools import cache

from django.conf import settings

from payments.gateways.interface import PaymentGateway


@cache
def _registry() -> dict[str, type]:
    from payments.gateways.razorpay_links import RazorpayPaymentLinksGateway
    from payments.gateways.stripe_checkout import StripeCheckoutGateway

    return {"stripe": StripeCheckoutGateway, "razorpay": RazorpayPaymentLinksGateway}


def available_gateways() -> list[str]:
    """The configured gateways this code knows, in configuration order."""
    return [name for name in settings.PAYMENT_GATEWAYS if name in _registry()]


def get_gateway(name: str | None = None) -> PaymentGateway:
    return _registry()[name or settings.PAYMENT_GATEWAY]()
