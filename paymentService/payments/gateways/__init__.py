"""The gateways a payment can choose (``PAYMENT_GATEWAYS``; ``PAYMENT_GATEWAY`` when it names none),
never chosen at random. A provider is a module implementing ``interface.PaymentGateway`` and one
line here."""

from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

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
    return _gateway(name or settings.PAYMENT_GATEWAY)


@cache
def _gateway(name: str) -> PaymentGateway:
    """One gateway object per process and provider, shared by the worker's threads: its SDK client
    keeps its connections to the provider open, and a Stripe client costs 3.3 ms of CPU to build
    (an SSL context), which every initiation and webhook paid before (docs/decisions.md 219)."""
    return _registry()[name]()


@receiver(setting_changed)
def _forget_gateways(**kwargs: object) -> None:
    """Tests change the providers' settings; the next call builds the gateway from them."""
    _gateway.cache_clear()
