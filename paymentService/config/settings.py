"""Settings of the payment service: the shared defaults of shop_common.conf, then its own."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from shop_common.conf import environment, required_secret, service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(service_settings(service="payment", base_dir=BASE_DIR, apps=["payments"]))
env = environment(BASE_DIR)

# The gateways a payment may choose ("gateway" in POST /service/), and the one used when it names
# none. Never chosen at random.
PAYMENT_GATEWAYS = env(
    "PAYMENT_GATEWAYS",
    default="stripe,razorpay",
    cast=lambda v: [g.strip() for g in v.split(",") if g.strip()],
)
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="stripe")
if PAYMENT_GATEWAY not in PAYMENT_GATEWAYS:
    raise ImproperlyConfigured(
        f"PAYMENT_GATEWAY is {PAYMENT_GATEWAY!r} but PAYMENT_GATEWAYS lists {PAYMENT_GATEWAYS}."
    )

# Stripe. STRIPE_API_BASE points the official SDK at the offline sandbox (make run sets it);
# unset, the SDK talks to Stripe itself with real keys.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT_SECONDS = env("STRIPE_TIMEOUT_SECONDS", default=10.0, cast=float)
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
RAZORPAY_API_BASE = env("RAZORPAY_API_BASE", default="")
RAZORPAY_TIMEOUT_SECONDS = env("RAZORPAY_TIMEOUT_SECONDS", default=10.0, cast=float)
RAZORPAY_WEBHOOK_SECRET = env("RAZORPAY_WEBHOOK_SECRET", default="")
RAZORPAY_SANDBOX_ALLOWED = env("RAZORPAY_SANDBOX_ALLOWED", default=False, cast=bool)
RAZORPAY_REAL_API_BASE = "https://api.razorpay.com"
if (
    RAZORPAY_API_BASE
    and RAZORPAY_API_BASE.rstrip("/") != RAZORPAY_REAL_API_BASE
    and not DEBUG  # noqa: F821 (set by service_settings)
    and not RAZORPAY_SANDBOX_ALLOWED
):
    raise ImproperlyConfigured(
        f"RAZORPAY_API_BASE is {RAZORPAY_API_BASE!r}, not Razorpay ({RAZORPAY_REAL_API_BASE}): "
        "payments would go to a sandbox. In production remove RAZORPAY_API_BASE; for development "
        "or tests with DEBUG off, set RAZORPAY_SANDBOX_ALLOWED=True."
    )
# Razorpay signs the body only (no timestamp in the header): an event whose own created_at is older
# than this many seconds is refused as stale. Razorpay retries a failed delivery for 24 hours.
RAZORPAY_WEBHOOK_TOLERANCE = env("RAZORPAY_WEBHOOK_TOLERANCE", default=24 * 3600, cast=int)
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
RECONCILE_AFTER_MINUTES = env("RECONCILE_AFTER_MINUTES", default=10, cast=int)
