"""The shop's services in one table: folder, port, schema. Everything else reads it from here."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str
    folder: str
    port: int
    schema: str
    owns: str
    # The scopes of its own client-credentials token that its requests use: ``internal`` to call
    # another service's /internal/, ``introspection`` to check the services calling its own. Each
    # server worker fetches them as it starts (shop_common.server).
    token_scopes: tuple[str, ...] = ()

    @property
    def url_variable(self) -> str:
        return f"{self.name.upper()}_SERVICE_URL"

    @property
    def default_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def client_id(self) -> str:
        """Its OAuth2 client at the user service (client credentials, scope internal)."""
        return f"shop-{self.name}"

    @property
    def client_secret_variable(self) -> str:
        return f"{self.name.upper()}_CLIENT_SECRET"

    @property
    def display_name(self) -> str:
        return f"{self.name} service"


# A service client's secret is never locked after failed guesses (docs/auth.md, "Brute force"), so
# it must be too long to guess: 43 characters of URL-safe base64 (secrets.token_urlsafe(32)) carry
# 256 bits. Length is all that can be checked; the shop's own generators make random ones.
SERVICE_SECRET_MIN_LENGTH = 43


def short_service_secret(name: str, secret: str) -> str:
    """What is wrong with ``secret`` as the client secret of a shop service, or ``""``."""
    if len(secret) >= SERVICE_SECRET_MIN_LENGTH:
        return ""
    return (
        f"{name}'s client secret has {len(secret)} characters; service secrets need at least "
        f"{SERVICE_SECRET_MIN_LENGTH} (256 bits), e.g. python -c 'import secrets; "
        "print(secrets.token_urlsafe(48))'."
    )


SERVICES: tuple[Service, ...] = (
    Service(
        "user", "userService", 8001, "ecommerce_users", "users, roles, sessions, OAuth2 clients"
    ),
    Service(
        "product",
        "product",
        8002,
        "ecommerce_products",
        "categories, products, stock",
        # cart and order call its /internal/; its staff admin checks sessions at the user service.
        token_scopes=("introspection", "internal"),
    ),
    Service(
        "cart",
        "cart",
        8003,
        "ecommerce_carts",
        "carts and their lines",
        # internal: the product lookup.
        token_scopes=("internal",),
    ),
    Service(
        "order",
        "orderService",
        8004,
        "ecommerce_orders",
        "orders, their lines and history",
        # internal: the product lookup and reservations; introspection: payment calls its /internal/.
        token_scopes=("internal", "introspection"),
    ),
    Service(
        "payment",
        "paymentService",
        8010,
        "ecommerce_payments",
        "payments, webhook events",
        # internal: the order service's /internal/; its staff admin checks sessions at the user service.
        token_scopes=("internal",),
    ),
    Service(
        "integration",
        "integrationService",
        8006,
        "ecommerce_integration",
        "idempotency records",
        # internal: sent beside the customer's token (X-Shop-Service-Token), so that the cart,
        # order and payment services take its deadline (shop_common.deadlines).
        token_scopes=("internal",),
    ),
)

SERVICES_BY_NAME: dict[str, Service] = {service.name: service for service in SERVICES}

# The offline Stripe sandbox (development and tests only, in sandboxes/ beside the services, never in
# an image): no schema, state in memory.
STRIPE_SANDBOX = Service(
    "stripe-sandbox",
    "sandboxes",
    12111,
    "",
    "offline Stripe Checkout API, hosted page, webhooks",
)

# The offline Razorpay sandbox (development and tests only): no schema, state in memory.
RAZORPAY_SANDBOX = Service(
    "razorpay-sandbox",
    "sandboxes",
    12112,
    "",
    "offline Razorpay Payment Links API, hosted page, webhooks",
)

# The offline provider sandboxes a stack with the payment service runs beside it.
SANDBOXES: tuple[Service, ...] = (STRIPE_SANDBOX, RAZORPAY_SANDBOX)
