"""The gateways a payment can choose (``PAYMENT_GATEWAYS``; ``PAYMENT_GATEWAY`` when it names none),
never chosen at random. A provider is a module implementing ``interface.PaymentGateway``, built
from a config value that only this module reads from the settings, and one entry here."""

from collections.abc import Callable
from functools import lru_cache

from django.conf import settings

from payments.gateways.interface import PaymentGateway
from payments.gateways.razorpay_links import RazorpayConfig, RazorpayPaymentLinksGateway
from payments.gateways.stripe_checkout import StripeCheckoutGateway, StripeConfig


def stripe_config() -> StripeConfig:
    return StripeConfig(
        secret_key=settings.STRIPE_SECRET_KEY,
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        api_base=settings.STRIPE_API_BASE,
        timeout_seconds=settings.STRIPE_TIMEOUT_SECONDS,
        webhook_tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
    )


def razorpay_config() -> RazorpayConfig:
    return RazorpayConfig(
        key_id=settings.RAZORPAY_KEY_ID,
        key_secret=settings.RAZORPAY_KEY_SECRET,
        webhook_secret=settings.RAZORPAY_WEBHOOK_SECRET,
        api_base=settings.RAZORPAY_API_BASE,
        timeout_seconds=settings.RAZORPAY_TIMEOUT_SECONDS,
        webhook_tolerance=settings.RAZORPAY_WEBHOOK_TOLERANCE,
    )


# name → (its config read from the settings, the gateway built from such a config)
REGISTRY: dict[str, tuple[Callable[[], object], Callable[[object], PaymentGateway]]] = {
    "stripe": (stripe_config, StripeCheckoutGateway),
    "razorpay": (razorpay_config, RazorpayPaymentLinksGateway),
}


def available_gateways() -> list[str]:
    """The configured gateways this code knows, in configuration order."""
    return [name for name in settings.PAYMENT_GATEWAYS if name in REGISTRY]


def get_gateway(name: str | None = None) -> PaymentGateway:
    name = name or settings.PAYMENT_GATEWAY
    config, _ = REGISTRY[name]
    return _gateway(name, config())


@lru_cache(maxsize=8)
def _gateway(name: str, config: object) -> PaymentGateway:
    """One gateway per provider and configuration, shared by the worker's threads: its SDK client
    keeps its connections open, and building one is not free (a Stripe client makes an SSL
    context). Other settings (a test's) build another."""
    _, build = REGISTRY[name]
    return build(config)
