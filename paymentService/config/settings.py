"""Settings of the payment service: the shared defaults of shop_common.conf, then its own."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from shop_common.conf import environment, service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(service_settings(service="payment", base_dir=BASE_DIR, apps=["payments"]))
env = environment(BASE_DIR)

# The gateway, from configuration (never chosen at random). "stripe" is the one there is.
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="stripe")

# Stripe. STRIPE_API_BASE points the official SDK at the offline sandbox (make run sets it);
# unset, the SDK talks to Stripe itself with real keys.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT_SECONDS = env("STRIPE_TIMEOUT_SECONDS", default=10.0, cast=float)
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# A STRIPE_API_BASE other than Stripe's own is the offline sandbox (or another stand-in): no money
# moves. With DEBUG off that must be asked for (make run's .env and the test stacks do), so that a
# production deployment that kept a sandbox URL refuses to start instead of taking no payments.
STRIPE_SANDBOX_ALLOWED = env("STRIPE_SANDBOX_ALLOWED", default=False, cast=bool)
STRIPE_REAL_API_BASE = "https://api.stripe.com"
if (
    STRIPE_API_BASE
    and STRIPE_API_BASE.rstrip("/") != STRIPE_REAL_API_BASE
    and not DEBUG  # noqa: F821 (set by service_settings)
    and not STRIPE_SANDBOX_ALLOWED
):
    raise ImproperlyConfigured(
        f"STRIPE_API_BASE is {STRIPE_API_BASE!r}, not Stripe ({STRIPE_REAL_API_BASE}): payments "
        "would go to a sandbox. In production remove STRIPE_API_BASE (and set real keys); for "
        "development or tests with DEBUG off, set STRIPE_SANDBOX_ALLOWED=True."
    )
# Seconds a webhook's signature timestamp may be old (Stripe's default, 5 minutes).
STRIPE_WEBHOOK_TOLERANCE = env("STRIPE_WEBHOOK_TOLERANCE", default=300, cast=int)
if not STRIPE_WEBHOOK_SECRET:
    if not DEBUG:  # noqa: F821 (set by service_settings)
        raise ImproperlyConfigured(
            "STRIPE_WEBHOOK_SECRET is not set: without it no webhook can be verified. "
            "`make run` writes one to .env; with real Stripe use the endpoint's signing secret."
        )
    STRIPE_WEBHOOK_SECRET = "whsec_development_only"  # noqa: S105 (DEBUG only)

# Checkouts still open after this many minutes are asked about by `reconcile_payments`.
RECONCILE_AFTER_MINUTES = env("RECONCILE_AFTER_MINUTES", default=10, cast=int)
