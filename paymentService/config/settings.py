"""Settings of the payment service: the shared defaults of shop_common.conf, then its own."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from shop_common.conf import (
    StaffAdmin,
    environment,
    payment_gateways,
    required_secret,
    service_settings,
)

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(
    service_settings(
        service="payment",
        base_dir=BASE_DIR,
        apps=["payments"],
        # Staff see payments, refunds, webhook events and order notices in the admin, read-only
        # (money moves only through the services and the providers), and may refund a payment
        # there, through the refund service; with their user-service login
        # (shop_common.staff_admin; docs/payments.md, "Admin for payment staff").
        staff_admin=StaffAdmin(
            group="Payment staff",
            permissions={
                "payments": {
                    "payment": ("view", "refund"),
                    "paymentstatuschange": ("view",),
                    "refund": ("view",),
                    "webhookevent": ("view",),
                    "ordernotice": ("view",),
                }
            },
        ),
    )
)
env = environment(BASE_DIR)


def provider_api_base(prefix: str, provider: str, real_base: str) -> str:
    """``<prefix>_API_BASE``: where the provider's official SDK sends its calls; unset, the
    provider itself. Any other address is the offline sandbox (or another stand-in) and no money
    moves, so with DEBUG off it must be asked for with ``<prefix>_SANDBOX_ALLOWED=True`` (make
    run's .env and the test stacks do): a production deployment that kept a sandbox URL refuses to
    start instead of taking no payments."""
    base = env(f"{prefix}_API_BASE", default="")
    if (
        base
        and base.rstrip("/") != real_base
        and not DEBUG  # noqa: F821 (set by service_settings)
        and not env(f"{prefix}_SANDBOX_ALLOWED", default=False, cast=bool)
    ):
        raise ImproperlyConfigured(
            f"{prefix}_API_BASE is {base!r}, not {provider} ({real_base}): payments would go to a "
            f"sandbox. In production remove {prefix}_API_BASE (and set real keys); for development "
            f"or tests with DEBUG off, set {prefix}_SANDBOX_ALLOWED=True."
        )
    return base


# The gateways a payment may choose ("gateway" in POST /service/), and the one used when it names
# none. Never chosen at random.
PAYMENT_GATEWAYS, PAYMENT_GATEWAY = payment_gateways(env)

# Stripe. STRIPE_API_BASE points the official SDK at the offline sandbox (make run sets it);
# unset, the SDK talks to Stripe itself with real keys (provider_api_base).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_REAL_API_BASE = "https://api.stripe.com"
STRIPE_API_BASE = provider_api_base("STRIPE", "Stripe", STRIPE_REAL_API_BASE)
# Seconds the SDK waits for Stripe's answer.
STRIPE_TIMEOUT_SECONDS = 10.0
# Seconds a webhook's signature timestamp may be off, past or future (Stripe's default, 5 minutes).
STRIPE_WEBHOOK_TOLERANCE = 300
STRIPE_WEBHOOK_SECRET = required_secret(
    env,
    "STRIPE_WEBHOOK_SECRET",
    debug=DEBUG,  # noqa: F821 (set by service_settings)
    development_value="whsec_development_only",
    hint="Without it no webhook can be verified. `make run` writes one to .env; with real Stripe "
    "use the endpoint's signing secret.",
)

# Razorpay (Payment Links through the official SDK). RAZORPAY_API_BASE points the SDK at the offline
# Razorpay sandbox (make run sets it); unset, it talks to Razorpay itself. The same guard as Stripe's.
RAZORPAY_KEY_ID = env("RAZORPAY_KEY_ID", default="")
RAZORPAY_KEY_SECRET = env("RAZORPAY_KEY_SECRET", default="")
RAZORPAY_REAL_API_BASE = "https://api.razorpay.com"
RAZORPAY_API_BASE = provider_api_base("RAZORPAY", "Razorpay", RAZORPAY_REAL_API_BASE)
RAZORPAY_TIMEOUT_SECONDS = 10.0
RAZORPAY_WEBHOOK_SECRET = env("RAZORPAY_WEBHOOK_SECRET", default="")
# Razorpay signs the body only (no timestamp in the header): an event whose own created_at is more
# than this many seconds before or after now is refused. Razorpay retries a failed delivery for 24 h.
RAZORPAY_WEBHOOK_TOLERANCE = 24 * 3600
if "razorpay" in PAYMENT_GATEWAYS:
    RAZORPAY_WEBHOOK_SECRET = required_secret(
        env,
        "RAZORPAY_WEBHOOK_SECRET",
        debug=DEBUG,  # noqa: F821 (set by service_settings)
        development_value="razorpay_development_only",
        hint="PAYMENT_GATEWAYS offers razorpay, and without it no webhook could be verified. "
        "`make run` writes one to .env; with real Razorpay use the secret you gave the webhook "
        "in its dashboard.",
    )

# Checkouts still open after this many minutes are asked about by `reconcile_payments`.
RECONCILE_AFTER_MINUTES = 10
