"""The hand-kept half of docs/postman/: every request of the collection, in the order a run sends
them, with its example body, the values its path variables take and what its tests check.
`scripts/export_api_docs.py postman` joins these with the OpenAPI schemas (descriptions, whether a
request is public) and refuses to write a collection that misses an operation of a schema or names
one that no schema has, so the collection cannot drift from the code.

Values a run captures (tokens, ids) are collection variables; ``Var("order_id")`` in a body is the
variable unquoted (a JSON number), ``"{{run}}"`` inside a string is the run's own tag, so that a
second run on the same stack makes new objects instead of tripping over the first run's.
"""

from dataclasses import dataclass, field
from typing import Any

from shop_common.testing.data import ADDRESS


@dataclass(frozen=True)
class Var:
    """A collection variable written into a JSON body without quotes (an id)."""

    name: str


@dataclass
class Req:
    name: str
    service: str  # a topology name; "sandbox" for the Stripe sandbox's hosted page
    method: str
    path: str  # as the schema spells it: /users/{user_id}/
    status: int | tuple[int, ...] = 200
    auth: str | None = None  # the variable holding the bearer token; None: no Authorization
    body: Any = None
    form: dict[str, str] | None = None  # application/x-www-form-urlencoded instead of JSON
    basic: tuple[str, str] | None = None  # HTTP Basic (a client id and secret) instead of a bearer
    params: dict[str, str] = field(default_factory=dict)  # path variables
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = ()  # keys the JSON answer must have
    error: str | None = None  # the error code a negative example must get, in the error shape
    capture: dict[str, str] = field(default_factory=dict)  # variable -> JS expression on `body`
    checks: tuple[str, ...] = ()  # (test name, JS expression that must be true), flattened pairs
    prerequest: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()  # extra JS, verbatim
    follow_redirects: bool = True
    # True for requests no OpenAPI schema lists (the OAuth token endpoint, the sandbox's page).
    outside_schema: bool = False
    # What the request is for, when its operation's own description does not say (or it has none).
    description: str = ""


# Set once per run by the first request: a tag that makes emails, slugs and SKUs unique.
START_RUN = (
    "pm.collectionVariables.set('run', Date.now().toString(36) + "
    "Math.floor(Math.random() * 1e6).toString(36));",
)


# The collection's own pre-request script, run before every request: a run tag when there is none
# yet, and a live token for the customer, staff or admin a request acts as (log in with the
# role's demo login, or refresh with the role's refresh token, when the token is missing or ends
# within 30 s), so that any request works on its own, by hand, in any order.
COLLECTION_PREREQUEST = (
    "if (!pm.collectionVariables.get('run')) {",
    "  " + START_RUN[0],
    "}",
    "const ROLES = { customer_token: 'customer', staff_token: 'staff', admin_token: 'admin' };",
    "const auth = pm.request.auth ? pm.request.auth.toJSON() : null;",
    "const slot = auth && auth.type === 'bearer'",
    "  ? (auth.bearer || []).find((parameter) => parameter.key === 'token') : null;",
    "const variable = slot ? (/^{{(\\w+)}}$/.exec(slot.value) || [])[1] : null;",
    "const role = ROLES[variable];",
    "function endsSoon(token) {",
    "  try {",
    "    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');",
    "    const claims = JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));",
    "    return claims.exp * 1000 < Date.now() + 30000;",
    "  } catch (error) {",
    "    return true;",
    "  }",
    "}",
    "function post(path, payload, then) {",
    "  pm.sendRequest({",
    "    url: pm.variables.get('user_url') + path,",
    "    method: 'POST',",
    "    header: { 'Content-Type': 'application/json' },",
    "    body: { mode: 'raw', raw: JSON.stringify(payload) },",
    "  }, (error, response) => then(!error && response.code === 200 ? response.json() : null));",
    "}",
    "function store(name, value) {",
    "  pm.collectionVariables.set(name, value);",
    "  // A value in the environment wins over the collection's: replace it there too.",
    "  if (pm.environment.has(name)) { pm.environment.set(name, value); }",
    "}",
    "function keep(body) {",
    "  store(role + '_token', body.access);",
    "  store(role + '_refresh', body.refresh);",
    "  if (body.user) { store(role + '_id', String(body.user.id)); }",
    "}",
    "function logIn() {",
    "  const login = { email: pm.variables.get(role + '_email'),"
    " password: pm.variables.get(role + '_password') };",
    "  post('/auth/login/', login, (body) => { if (body) { keep(body); } });",
    "}",
    "if (role && endsSoon(pm.variables.get(variable) || '')) {",
    "  const refresh = pm.variables.get(role + '_refresh');",
    "  if (refresh) {",
    "    post('/auth/refresh/', { refresh }, (body) => (body ? keep(body) : logIn()));",
    "  } else {",
    "    logIn();",
    "  }",
    "}",
)


def check(name: str, expression: str) -> tuple[str, str]:
    return (name, expression)


JOURNEY = [
    Req(
        "Sign up a new customer",
        "user",
        "POST",
        "/auth/signup/",
        201,
        prerequest=START_RUN,
        body={
            "email": "journey-{{run}}@shop.test",
            "password": "plum-harbour-lantern-42",
            "first_name": "Jo",
            "last_name": "Urney",
        },
        fields=("email", "username", "roles", "message"),
        checks=check("a customer", "body.roles.includes('CUSTOMER')"),
    ),
    Req(
        "Log in as the new customer",
        "user",
        "POST",
        "/auth/login/",
        body={"email": "journey-{{run}}@shop.test", "password": "plum-harbour-lantern-42"},
        fields=("access", "refresh", "expires_in", "user"),
        capture={
            "journey_token": "body.access",
            "journey_refresh": "body.refresh",
            "journey_user_id": "body.user.id",
        },
        checks=check("the user is the new customer", "body.user.email.startsWith('journey-')"),
    ),
    Req(
        "Browse: coffee in stock, cheapest first",
        "product",
        "GET",
        "/products/",
        query={"q": "coffee", "in_stock": "true", "ordering": "price", "page_size": "5"},
        fields=("count", "results"),
        capture={"journey_product_id": "body.results[0].id"},
        checks=(
            *check("found some", "body.results.length > 0"),
            *check(
                "cheapest first",
                "body.results.every((p, i, a) => i === 0 || "
                "Number(a[i - 1].price) <= Number(p.price))",
            ),
            *check("all in stock", "body.results.every(p => p.available > 0)"),
        ),
    ),
    Req(
        "Add the cheapest to the cart",
        "integration",
        "POST",
        "/cart/add/",
        auth="journey_token",
        body={"product_id": Var("journey_product_id"), "quantity": 1},
        fields=("items", "total"),
        checks=check("one line", "body.items.length === 1"),
    ),
    Req(
        "Check out",
        "integration",
        "POST",
        "/checkout/",
        201,
        auth="journey_token",
        headers={"Idempotency-Key": "journey-{{run}}"},
        body={"shipping_address": ADDRESS},
        fields=("order", "payment"),
        capture={
            "journey_order_id": "body.order.id",
            "journey_payment_id": "body.payment.payment_id",
            "journey_checkout_url": "body.payment.checkout_url",
        },
        checks=(
            *check("the order is pending", "body.order.status === 'PENDING'"),
            *check("a checkout page", "body.payment.checkout_url.includes('/pay/')"),
        ),
    ),
    Req(
        "Pay on the Stripe sandbox's page",
        "sandbox",
        "POST",
        "{{journey_checkout_url}}/pay",
        303,
        follow_redirects=False,
        outside_schema=True,
        description=(
            "What the sandbox's hosted page does when a person clicks Pay: it marks the checkout "
            "paid, redirects to the shop's success page and sends the signed webhook that makes "
            "the order PAID a moment later. `journey_checkout_url` is the checkout's answer."
        ),
        tests=(
            "pm.test('back to the shop', () => "
            "pm.expect(pm.response.headers.get('Location')).to.include('/payments/success/'));",
        ),
    ),
    Req(
        "Track the order until it is paid",
        "order",
        "GET",
        "/orders/{order_id}/track/",
        auth="journey_token",
        params={"order_id": "{{journey_order_id}}"},
        fields=("order_id", "current_status", "status_history"),
        # The sandbox delivers the signed webhook a moment after the page answers: ask again (up
        # to 40 times, 0.25 s apart) until the order is PAID.
        prerequest=(
            "const tries = Number(pm.collectionVariables.get('track_tries') || 0);",
            "if (tries > 0) { setTimeout(() => {}, 250); }",
        ),
        tests=(
            "const tries = Number(pm.collectionVariables.get('track_tries') || 0) + 1;",
            "if (body && body.current_status !== 'PAID' && tries < 40) {",
            "  pm.collectionVariables.set('track_tries', tries);",
            "  postman.setNextRequest(pm.info.requestName);",
            "} else {",
            "  pm.collectionVariables.set('track_tries', 0);",
            "  pm.test('paid', () => pm.expect(body.current_status).to.eql('PAID'));",
            "}",
        ),
    ),
    Req(
        "Refresh the session",
        "user",
        "POST",
        "/auth/refresh/",
        body={"refresh": "{{journey_refresh}}"},
        fields=("access", "refresh", "expires_in"),
        capture={"journey_token": "body.access", "journey_refresh": "body.refresh"},
    ),
    Req(
        "Log out",
        "user",
        "POST",
        "/auth/logout/",
        204,
        auth="journey_token",
        body={"refresh": "{{journey_refresh}}"},
    ),
    Req(
        "After logging out the token is refused",
        "user",
        "POST",
        "/auth/validate/",
        401,
        body={"token": "{{journey_token}}"},
        error="*",
    ),
]

USER = [
    Req("User service health", "user", "GET", "/health/", fields=("service", "database")),
    Req(
        "Sign up a second customer (used by the service folders)",
        "user",
        "POST",
        "/auth/signup/",
        201,
        body={
            "email": "shopper-{{run}}@shop.test",
            "password": "quiet-meadow-compass-17",
            "username": "shopper-{{run}}",
            "first_name": "Sam",
            "last_name": "Shopper",
            "phone_number": "+15555550100",
        },
        fields=("email", "username", "roles"),
    ),
    Req(
        "Sign up with a short password (refused)",
        "user",
        "POST",
        "/auth/signup/",
        400,
        body={"email": "short-{{run}}@shop.test", "password": "short"},
        error="validation_error",
    ),
    Req(
        "Log in as the second customer",
        "user",
        "POST",
        "/auth/login/",
        body={"email": "shopper-{{run}}@shop.test", "password": "quiet-meadow-compass-17"},
        fields=("access", "refresh", "user"),
        capture={
            "customer_token": "body.access",
            "customer_refresh": "body.refresh",
            "customer_id": "body.user.id",
        },
    ),
    Req(
        "Log in as staff",
        "user",
        "POST",
        "/auth/login/",
        body={"email": "{{staff_email}}", "password": "{{staff_password}}"},
        fields=("access", "user"),
        capture={"staff_token": "body.access"},
        checks=check("has STAFF", "body.user.roles.includes('STAFF')"),
    ),
    Req(
        "Log in as admin",
        "user",
        "POST",
        "/auth/login/",
        body={"email": "{{admin_email}}", "password": "{{admin_password}}"},
        fields=("access", "user"),
        capture={"admin_token": "body.access"},
        checks=check("has ADMIN", "body.user.roles.includes('ADMIN')"),
    ),
    Req(
        # An address nobody has: a wrong password for a demo account would count towards its
        # lockout (10 in 15 minutes).
        "Log in with an unknown email (refused)",
        "user",
        "POST",
        "/auth/login/",
        401,
        body={"email": "nobody-{{run}}@shop.test", "password": "not-a-password-{{run}}"},
        error="*",
    ),
    Req(
        "Validate a token",
        "user",
        "POST",
        "/auth/validate/",
        body={"token": "{{customer_token}}"},
        fields=("user_id", "email", "roles", "expires_at"),
        checks=check(
            "it is the customer", "String(body.user_id) === pm.variables.get('customer_id')"
        ),
    ),
    Req(
        "Validate a token (GET)",
        "user",
        "GET",
        "/auth/validate_token",
        query={"token": "{{customer_token}}"},
        fields=("user_id", "roles"),
    ),
    Req(
        "Read my own account",
        "user",
        "GET",
        "/users/{user_id}/",
        auth="customer_token",
        params={"user_id": "{{customer_id}}"},
        fields=("id", "email", "roles"),
    ),
    Req(
        "A customer cannot list users",
        "user",
        "GET",
        "/users/",
        403,
        auth="customer_token",
        error="*",
    ),
    Req(
        "List customers (admin)",
        "user",
        "GET",
        "/users/",
        auth="admin_token",
        query={"role": "CUSTOMER", "active": "true", "page_size": "5"},
        fields=("count", "results"),
    ),
    Req(
        "Create a user (admin)",
        "user",
        "POST",
        "/users/",
        201,
        auth="admin_token",
        body={
            "email": "temp-{{run}}@shop.test",
            "password": "amber-river-notebook-63",
            "username": "temp-{{run}}",
            "first_name": "Tem",
            "last_name": "Porary",
            "roles": ["CUSTOMER"],
        },
        fields=("id", "email", "roles"),
        capture={"temp_user_id": "body.id"},
    ),
    Req(
        "Read the created user (admin)",
        "user",
        "GET",
        "/users/{user_id}/",
        auth="admin_token",
        params={"user_id": "{{temp_user_id}}"},
        fields=("id", "email", "is_active"),
    ),
    Req(
        "Replace the created user's profile (admin)",
        "user",
        "PUT",
        "/users/{user_id}/",
        auth="admin_token",
        params={"user_id": "{{temp_user_id}}"},
        body={
            "username": "temp-{{run}}",
            "first_name": "Temporary",
            "last_name": "User",
            "phone_number": "+15555550101",
            "email": "temp-{{run}}@shop.test",
            "is_active": True,
        },
        fields=("id", "first_name"),
        checks=check("renamed", "body.first_name === 'Temporary'"),
    ),
    Req(
        "Change the created user's phone (admin)",
        "user",
        "PATCH",
        "/users/{user_id}/",
        auth="admin_token",
        params={"user_id": "{{temp_user_id}}"},
        body={"phone_number": "+15555550102"},
        fields=("id", "phone_number"),
        checks=check("changed", "body.phone_number === '+15555550102'"),
    ),
    Req(
        "List roles (admin)",
        "user",
        "GET",
        "/roles/",
        auth="admin_token",
        fields=("count", "results"),
        checks=check("STAFF is a role", "body.results.some(r => r.name === 'STAFF')"),
    ),
    Req(
        "Create a role (admin)",
        "user",
        "POST",
        "/roles/",
        201,
        auth="admin_token",
        body={"name": "AUDITOR_{{run}}", "description": "Reads orders, changes nothing."},
        fields=("id", "name"),
        capture={"temp_role": "body.name"},
    ),
    Req(
        "Give the created user the new role (admin)",
        "user",
        "POST",
        "/users/{user_id}/roles/",
        auth="admin_token",
        params={"user_id": "{{temp_user_id}}"},
        body={"roles": ["CUSTOMER", "{{temp_role}}"]},
        fields=("user_id", "roles"),
        checks=check("two roles", "body.roles.length === 2"),
    ),
    Req(
        "Read the created user's roles (admin)",
        "user",
        "GET",
        "/users/{user_id}/roles/",
        auth="admin_token",
        params={"user_id": "{{temp_user_id}}"},
        fields=("user_id", "roles"),
        checks=check(
            "the new role", "body.roles.some(r => r.name === pm.variables.get('temp_role'))"
        ),
    ),
    Req(
        # The user this run created, never a demo account.
        "Deactivate the created user (admin)",
        "user",
        "DELETE",
        "/users/{user_id}/",
        204,
        auth="admin_token",
        params={"user_id": "{{temp_user_id}}"},
    ),
]

PRODUCT = [
    Req("Product service health", "product", "GET", "/health/", fields=("service", "database")),
    Req(
        "List categories",
        "product",
        "GET",
        "/category/",
        fields=("count", "results"),
        capture={"demo_category_id": "body.results[0].id"},
    ),
    Req(
        "Create a category (staff)",
        "product",
        "POST",
        "/category/",
        201,
        auth="staff_token",
        body={
            "name": "Postman {{run}}",
            "slug": "postman-{{run}}",
            "description": "Made by a collection run.",
        },
        fields=("id", "name", "slug"),
        capture={"category_id": "body.id"},
    ),
    Req(
        "Read the category",
        "product",
        "GET",
        "/category/{category_id}/",
        params={"category_id": "{{category_id}}"},
        fields=("id", "slug"),
    ),
    Req(
        "Replace the category (staff)",
        "product",
        "PUT",
        "/category/{category_id}/",
        auth="staff_token",
        params={"category_id": "{{category_id}}"},
        body={
            "name": "Postman {{run}} renamed",
            "slug": "postman-{{run}}",
            "description": "Renamed by a collection run.",
            "parent": Var("demo_category_id"),
        },
        fields=("id", "name", "parent"),
    ),
    Req(
        "Change the category's description (staff)",
        "product",
        "PATCH",
        "/category/{category_id}/",
        auth="staff_token",
        params={"category_id": "{{category_id}}"},
        body={"description": "Patched by a collection run."},
        fields=("id", "description"),
    ),
    Req(
        "A customer cannot create categories",
        "product",
        "POST",
        "/category/",
        403,
        auth="customer_token",
        body={"name": "Not allowed {{run}}"},
        error="*",
    ),
    Req(
        "Create a product (staff)",
        "product",
        "POST",
        "/products/",
        201,
        auth="staff_token",
        body={
            "title": "Postman mug {{run}}",
            "slug": "postman-mug-{{run}}",
            "sku": "PM-{{run}}",
            "description": "A mug for collection runs.",
            "category": Var("demo_category_id"),
            "price": "12.50",
            "currency": "USD",
            "image_url": "https://example.com/mug.png",
            "is_active": True,
            "quantity": 100,
        },
        fields=("id", "sku", "price", "available"),
        capture={"product_id": "body.id"},
    ),
    Req(
        "Read the product",
        "product",
        "GET",
        "/products/{product_id}/",
        params={"product_id": "{{product_id}}"},
        fields=("id", "title", "price", "available"),
    ),
    Req(
        "Filter products by category and price",
        "product",
        "GET",
        "/products/",
        query={
            "category": "{{demo_category_id}}",
            "min_price": "1",
            "max_price": "100",
            "is_active": "true",
            "ordering": "-price",
            "page": "1",
            "page_size": "10",
        },
        fields=("count", "results"),
        checks=check(
            "in the category",
            "body.results.every(p => String(p.category) === pm.variables.get('demo_category_id'))",
        ),
    ),
    Req(
        "A product that does not exist (404)",
        "product",
        "GET",
        "/products/{product_id}/",
        404,
        params={"product_id": "999999999999"},
        error="*",
    ),
    Req(
        "Create a product to delete (staff)",
        "product",
        "POST",
        "/products/",
        201,
        auth="staff_token",
        body={
            "title": "Postman spare {{run}}",
            "sku": "PS-{{run}}",
            "category": Var("demo_category_id"),
            "price": "3.00",
            "quantity": 5,
        },
        fields=("id",),
        capture={"spare_product_id": "body.id"},
    ),
    Req(
        "Replace the spare product (staff)",
        "product",
        "PUT",
        "/products/{product_id}/",
        auth="staff_token",
        params={"product_id": "{{spare_product_id}}"},
        body={
            "title": "Postman spare {{run}} v2",
            "sku": "PS-{{run}}",
            "category": Var("demo_category_id"),
            "price": "4.00",
            "quantity": 6,
        },
        fields=("id", "price", "quantity"),
        checks=check("repriced", "body.price === '4.00'"),
    ),
    Req(
        "Change the spare product's stock (staff)",
        "product",
        "PATCH",
        "/products/{product_id}/",
        auth="staff_token",
        params={"product_id": "{{spare_product_id}}"},
        body={"quantity": 7},
        fields=("id", "quantity"),
        checks=check("restocked", "body.quantity === 7"),
    ),
    Req(
        "Delete the spare product (staff)",
        "product",
        "DELETE",
        "/products/{product_id}/",
        204,
        auth="staff_token",
        params={"product_id": "{{spare_product_id}}"},
    ),
    Req(
        "Delete the category (staff)",
        "product",
        "DELETE",
        "/category/{category_id}/",
        204,
        auth="staff_token",
        params={"category_id": "{{category_id}}"},
    ),
]

CART = [
    Req("Cart service health", "cart", "GET", "/health/", fields=("service", "database")),
    Req(
        "My cart",
        "cart",
        "GET",
        "/api/cart/",
        auth="customer_token",
        fields=("id", "items", "item_count", "subtotal", "total", "currency"),
    ),
    Req(
        "Add a product",
        "cart",
        "POST",
        "/api/cart/add/",
        auth="customer_token",
        body={"product_id": Var("product_id"), "quantity": 2},
        fields=("items", "item_count", "total"),
        capture={
            "cart_line_id": "body.items.find(l => String(l.product_id) === "
            "pm.variables.get('product_id')).id"
        },
        checks=check("priced live", "body.items[0].unit_price === '12.50'"),
    ),
    Req(
        "Add several products at once",
        "cart",
        "POST",
        "/api/cart/add/",
        auth="customer_token",
        body={
            "items": [
                {"product_id": Var("journey_product_id"), "quantity": 1},
                {"product_id": Var("product_id"), "quantity": 1},
            ]
        },
        fields=("items", "item_count"),
        capture={
            "other_line_id": "body.items.find(l => String(l.product_id) === "
            "pm.variables.get('journey_product_id')).id"
        },
        checks=check("two lines", "body.items.length === 2"),
    ),
    Req(
        "Add with both product_id and items (refused)",
        "cart",
        "POST",
        "/api/cart/add/",
        400,
        auth="customer_token",
        body={"product_id": Var("product_id"), "quantity": 1, "items": []},
        error="validation_error",
    ),
    Req(
        "Change a line's quantity",
        "cart",
        "POST",
        "/api/cart/update/{item_id}/",
        auth="customer_token",
        params={"item_id": "{{cart_line_id}}"},
        body={"quantity": 4},
        fields=("items",),
        checks=check(
            "four of them",
            "body.items.find(l => String(l.id) === pm.variables.get('cart_line_id')).quantity === 4",
        ),
    ),
    Req(
        "Remove a line",
        "cart",
        "DELETE",
        "/api/cart/remove/{item_id}/",
        auth="customer_token",
        params={"item_id": "{{other_line_id}}"},
        fields=("items",),
        checks=check("one line left", "body.items.length === 1"),
    ),
    Req(
        "Remove a line that is not there (404)",
        "cart",
        "DELETE",
        "/api/cart/remove/{item_id}/",
        404,
        auth="customer_token",
        params={"item_id": "{{other_line_id}}"},
        error="*",
    ),
    Req(
        # The second customer's cart, which this run filled.
        "Clear the cart",
        "cart",
        "POST",
        "/api/cart/clear/",
        auth="customer_token",
        fields=("items", "item_count"),
        checks=check("empty", "body.items.length === 0"),
    ),
    Req(
        # The integration service's calls (docs/cart.md, "Checkout"), here on the emptied cart.
        "Begin a checkout of an empty cart (none)",
        "cart",
        "POST",
        "/api/cart/checkout/",
        auth="customer_token",
        body={"key": "postman-{{run}}"},
        fields=("key", "order_id", "under_way", "items"),
        checks=check("no checkout", "body.key === null && body.items.length === 0"),
    ),
    Req(
        "Cancel a checkout",
        "cart",
        "POST",
        "/api/cart/checkout/cancel/",
        auth="customer_token",
        body={"key": "postman-{{run}}"},
        fields=("key", "items"),
    ),
    Req(
        "Complete a checkout without its order (refused)",
        "cart",
        "POST",
        "/api/cart/checkout/complete/",
        400,
        auth="customer_token",
        body={"key": "postman-{{run}}"},
        error="validation_error",
    ),
]

ORDER_LINES = [{"product_id": Var("product_id"), "quantity": 1}]


def place_order(name: str, path: str, variable: str) -> Req:
    return Req(
        name,
        "order",
        "POST",
        path,
        201,
        auth="customer_token",
        headers={"Idempotency-Key": f"{variable}-{{{{run}}}}"},
        body={"items": ORDER_LINES, "shipping_address": ADDRESS, "payment_method": "card"},
        fields=("id", "order_number", "status", "total_amount", "items"),
        capture={variable: "body.id"},
        checks=(
            *check("pending", "body.status === 'PENDING'"),
            *check("tax and shipping", "Number(body.total_amount) > Number(body.subtotal)"),
        ),
    )


def order_request(name: str, method: str, path: str, order: str, **kwargs: Any) -> Req:
    kwargs.setdefault("auth", "customer_token")
    return Req(name, "order", method, path, params={"order_id": f"{{{{{order}}}}}"}, **kwargs)


ORDER = [
    Req("Order service health", "order", "GET", "/health/", fields=("service", "database")),
    place_order("Place an order", "/orders/", "order_id"),
    Req(
        "The same order again under the same Idempotency-Key",
        "order",
        "POST",
        "/orders/",
        (200, 201),
        auth="customer_token",
        headers={"Idempotency-Key": "order_id-{{run}}"},
        body={"items": ORDER_LINES, "shipping_address": ADDRESS, "payment_method": "card"},
        fields=("id",),
        checks=check("the first order", "String(body.id) === pm.variables.get('order_id')"),
    ),
    Req(
        "Place an order without an address (refused)",
        "order",
        "POST",
        "/orders/",
        400,
        auth="customer_token",
        body={"items": ORDER_LINES},
        error="validation_error",
    ),
    order_request(
        "Read the order",
        "GET",
        "/orders/{order_id}/",
        "order_id",
        fields=("id", "status", "items", "status_history"),
    ),
    order_request(
        "Track the order",
        "GET",
        "/orders/{order_id}/track/",
        "order_id",
        fields=("order_id", "current_status", "status_history"),
    ),
    Req(
        "My pending orders",
        "order",
        "GET",
        "/orders/history/",
        auth="customer_token",
        query={"status": "PENDING", "page_size": "10"},
        fields=("count", "results"),
        checks=check("all pending", "body.results.every(o => o.status === 'PENDING')"),
    ),
    order_request(
        "A customer cannot confirm an order",
        "POST",
        "/orders/{order_id}/confirm/",
        "order_id",
        status=403,
        error="*",
    ),
    order_request(
        "Cancel the order",
        "POST",
        "/orders/{order_id}/cancel/",
        "order_id",
        fields=("id", "status"),
        checks=check("cancelled", "body.status === 'CANCELLED'"),
    ),
    order_request(
        "Cancel it again (illegal)",
        "POST",
        "/orders/{order_id}/cancel/",
        "order_id",
        status=409,
        error="illegal_transition",
    ),
    # The journey's order, paid on the sandbox, through the rest of its life.
    order_request(
        "Confirm the journey's paid order (staff)",
        "POST",
        "/orders/{order_id}/confirm/",
        "journey_order_id",
        auth="staff_token",
        fields=("id", "status"),
        checks=check("confirmed", "body.status === 'CONFIRMED'"),
    ),
    order_request(
        "Ship it (staff)",
        "PUT",
        "/orders/{order_id}/status/",
        "journey_order_id",
        auth="staff_token",
        body={
            "status": "SHIPPED",
            "notes": "Left the warehouse.",
            "tracking_number": "1Z{{run}}",
            "carrier": "UPS",
        },
        fields=("id", "status", "tracking_number", "carrier"),
        checks=check("shipped", "body.status === 'SHIPPED'"),
    ),
    # The same API under /api/orders/.
    place_order("Place an order (/api/)", "/api/orders/", "api_order_id"),
    order_request(
        "Read the order (/api/)",
        "GET",
        "/api/orders/{order_id}/",
        "api_order_id",
        fields=("id", "status"),
    ),
    order_request(
        "Track the order (/api/)",
        "GET",
        "/api/orders/{order_id}/track/",
        "api_order_id",
        fields=("order_id", "current_status"),
    ),
    Req(
        "My orders (/api/)",
        "order",
        "GET",
        "/api/orders/history/",
        auth="customer_token",
        query={"date_from": "2020-01-01", "page_size": "10"},
        fields=("count", "results"),
        checks=check("at least two", "body.count >= 2"),
    ),
    order_request(
        "Cancel the order (/api/)",
        "POST",
        "/api/orders/{order_id}/cancel/",
        "api_order_id",
        fields=("status",),
        checks=check("cancelled", "body.status === 'CANCELLED'"),
    ),
    order_request(
        "Deliver the journey's order (staff, /api/)",
        "PUT",
        "/api/orders/{order_id}/status/",
        "journey_order_id",
        auth="staff_token",
        body={"status": "DELIVERED", "notes": "Signed for."},
        fields=("status",),
        checks=check("delivered", "body.status === 'DELIVERED'"),
    ),
    order_request(
        "Confirm a delivered order (illegal, /api/)",
        "POST",
        "/api/orders/{order_id}/confirm/",
        "journey_order_id",
        auth="staff_token",
        status=409,
        error="illegal_transition",
    ),
    # An order left pending for the payment folder.
    place_order("Place an order to pay", "/orders/", "unpaid_order_id"),
]

PAYMENT = [
    Req("Payment service health", "payment", "GET", "/health/", fields=("service", "database")),
    Req(
        "Start a payment",
        "payment",
        "POST",
        "/service/",
        (200, 201),
        auth="customer_token",
        body={"order_id": Var("unpaid_order_id")},
        fields=("payment_id", "order_id", "status", "amount", "checkout_url"),
        capture={"payment_id": "body.payment_id"},
        checks=check("on the sandbox", "body.checkout_url.includes('/pay/')"),
    ),
    Req(
        "Start it again: the same open payment (/payment/)",
        "payment",
        "POST",
        "/payment/service/",
        (200, 201),
        auth="customer_token",
        body={"order_id": Var("unpaid_order_id")},
        fields=("payment_id",),
        checks=check("the same", "String(body.payment_id) === pm.variables.get('payment_id')"),
    ),
    Req(
        "My payments for the order",
        "payment",
        "GET",
        "/payments/",
        auth="customer_token",
        query={"order_id": "{{unpaid_order_id}}"},
        fields=("count", "results"),
        checks=check("one", "body.count === 1"),
    ),
    Req(
        "Read the payment",
        "payment",
        "GET",
        "/payments/{payment_id}/",
        auth="customer_token",
        params={"payment_id": "{{payment_id}}"},
        fields=("payment_id", "status", "amount", "currency"),
    ),
    Req(
        # Refunds are for staff (docs/payments.md, "Refunds"); the customer's own payment too.
        "A customer cannot refund a payment (403)",
        "payment",
        "POST",
        "/payments/{payment_id}/refund/",
        403,
        auth="customer_token",
        params={"payment_id": "{{payment_id}}"},
        headers={"Idempotency-Key": "refund-{{run}}"},
        body={"reason": "changed my mind"},
        error="*",
    ),
    Req(
        "Refund part of the journey's paid order (staff)",
        "payment",
        "POST",
        "/payments/{payment_id}/refund/",
        201,
        auth="staff_token",
        params={"payment_id": "{{journey_payment_id}}"},
        headers={"Idempotency-Key": "staff-refund-{{run}}"},
        body={"amount": "1.00", "reason": "a damaged box, refunded in part"},
        fields=("refund", "payment"),
        checks=(
            *check("of what was asked", "body.refund.amount === '1.00'"),
            *check("started by staff", "body.refund.requested_by.startsWith('staff:')"),
        ),
        description=(
            "Staff give part of a paid payment back: the journey's order, paid on the sandbox. "
            "The refund goes through the payment's gateway and stays PENDING until the "
            "provider's webhook confirms it; the payment then shows PARTIALLY_REFUNDED. Without "
            "`amount`, everything not yet refunded; the same Idempotency-Key answers the same "
            "refund (200) instead of a second one."
        ),
    ),
    Req(
        "Pay for an order that does not exist (404)",
        "payment",
        "POST",
        "/service/",
        404,
        auth="customer_token",
        body={"order_id": 999999999999},
        error="*",
    ),
    Req(
        # Only Stripe (here: the sandbox) can sign an event.
        "An unsigned webhook (refused)",
        "payment",
        "POST",
        "/webhook/stripe/",
        400,
        body={"id": "evt_forged", "type": "checkout.session.completed", "data": {"object": {}}},
        error="*",
    ),
    Req(
        "An unsigned webhook (refused, /payment/)",
        "payment",
        "POST",
        "/payment/webhook/stripe/",
        400,
        body={"id": "evt_forged", "type": "checkout.session.completed", "data": {"object": {}}},
        error="*",
    ),
    Req(
        # Only Razorpay (here: its sandbox) can sign an event with X-Razorpay-Signature.
        "An unsigned Razorpay webhook (refused)",
        "payment",
        "POST",
        "/webhook/razorpay/",
        400,
        body={"event": "payment_link.paid", "payload": {}, "created_at": 1},
        error="*",
    ),
]


def integration_add(name: str, path: str) -> Req:
    return Req(
        name,
        "integration",
        "POST",
        path,
        auth="customer_token",
        body={"product_id": Var("product_id"), "quantity": 1},
        fields=("items",),
    )


def integration_place(name: str, path: str, variable: str) -> Req:
    return Req(
        name,
        "integration",
        "POST",
        path,
        201,
        auth="customer_token",
        headers={"Idempotency-Key": f"{variable}-{{{{run}}}}"},
        body={"shipping_address": ADDRESS, "billing_address": ADDRESS, "payment_method": "card"},
        fields=("id", "status"),
        capture={variable: "body.id"},
        checks=check("pending", "body.status === 'PENDING'"),
    )


def integration_pay(name: str, path: str, variable: str) -> Req:
    return Req(
        name,
        "integration",
        "POST",
        path,
        (200, 201),
        auth="customer_token",
        body={"order_id": Var(variable)},
        fields=("payment_id", "checkout_url"),
    )


def integration_checkout(name: str, path: str) -> Req:
    return Req(
        name,
        "integration",
        "POST",
        path,
        201,
        auth="customer_token",
        body={"shipping_address": ADDRESS},
        fields=("order", "payment"),
        checks=check("a checkout page", "body.payment.checkout_url.includes('/pay/')"),
    )


INTEGRATION = [
    Req("Integration service health", "integration", "GET", "/health/", fields=("service",)),
    integration_add("Add to the cart", "/cart/add/"),
    integration_place("Place the cart as an order", "/orders/place/", "placed_order_id"),
    integration_pay("Pay for it", "/payment/initiate/", "placed_order_id"),
    Req(
        "Place an empty cart (refused)",
        "integration",
        "POST",
        "/orders/place/",
        409,
        auth="customer_token",
        body={"shipping_address": ADDRESS},
        error="cart_checked_out",
    ),
    integration_add("Add to the cart (/api/)", "/api/cart/add/"),
    integration_place("Place the cart (/api/)", "/api/orders/place/", "api_placed_order_id"),
    integration_pay("Pay for it (/api/)", "/api/payment/initiate/", "api_placed_order_id"),
    integration_add("Add to the cart for a checkout", "/cart/add/"),
    integration_checkout("Check out in one request", "/checkout/"),
    integration_add("Add to the cart for a checkout (/api/)", "/api/cart/add/"),
    integration_checkout("Check out in one request (/api/)", "/api/checkout/"),
]


def service_token(service: str) -> Req:
    return Req(
        f"Service credentials: shop-{service}",
        "user",
        "POST",
        "/o/token/",
        form={"grant_type": "client_credentials", "scope": "internal"},
        basic=(f"shop-{service}", f"{{{{{service}_client_secret}}}}"),
        fields=("access_token", "expires_in", "scope"),
        capture={f"{service}_service_token": "body.access_token"},
        outside_schema=True,
        description=(
            f"The {service} service's own token for the internal endpoints: the OAuth2 "
            "client-credentials grant with its client id and secret (HTTP Basic), scope "
            f"`internal`. Needs `{service}_client_secret` in the environment ({service.upper()}"
            "_CLIENT_SECRET of make run's .env; `make newman` passes it in)."
        ),
    )


INTERNAL = [
    # Each internal endpoint takes calls from the services named in docs/auth.md ("Service
    # identities") only: stock, lookups and an order's payment as the order service, orders as the
    # payment service, staff sessions as the product service.
    service_token("order"),
    service_token("payment"),
    service_token("product"),
    Req(
        "Look products up in a batch (as order)",
        "product",
        "GET",
        "/internal/products/",
        auth="order_service_token",
        query={"ids": "{{product_id}},999999999999"},
        fields=("results", "missing"),
        checks=check("one missing", "body.missing.length === 1"),
    ),
    Req(
        "Reserve stock (as order)",
        "product",
        "POST",
        "/internal/stock/reserve/",
        201,
        auth="order_service_token",
        body={
            "order_ref": "postman-{{run}}-a",
            "lines": [{"product_id": Var("product_id"), "quantity": 2}],
        },
        fields=("order_ref", "status", "lines", "expires_at"),
        checks=check("reserved", "body.status === 'RESERVED'"),
    ),
    Req(
        "Commit the reservation (as order)",
        "product",
        "POST",
        "/internal/stock/commit/",
        auth="order_service_token",
        body={"order_ref": "postman-{{run}}-a"},
        fields=("status",),
        checks=check("committed", "body.status === 'COMMITTED'"),
    ),
    Req(
        "Release a committed reservation (refused)",
        "product",
        "POST",
        "/internal/stock/release/",
        409,
        auth="order_service_token",
        body={"order_ref": "postman-{{run}}-a"},
        error="*",
    ),
    Req(
        "Reserve stock to release (as order)",
        "product",
        "POST",
        "/internal/stock/reserve/",
        201,
        auth="order_service_token",
        body={
            "order_ref": "postman-{{run}}-b",
            "lines": [{"product_id": Var("product_id"), "quantity": 1}],
        },
        fields=("status",),
    ),
    Req(
        "Release it (as order)",
        "product",
        "POST",
        "/internal/stock/release/",
        auth="order_service_token",
        body={"order_ref": "postman-{{run}}-b"},
        fields=("status",),
        checks=check("released", "body.status === 'RELEASED'"),
    ),
    Req(
        "Reserve stock as the payment service (refused)",
        "product",
        "POST",
        "/internal/stock/reserve/",
        403,
        auth="payment_service_token",
        body={
            "order_ref": "postman-{{run}}-c",
            "lines": [{"product_id": Var("product_id"), "quantity": 1}],
        },
        error="*",
    ),
    Req(
        "Read an order (as payment)",
        "order",
        "GET",
        "/internal/orders/{order_id}/",
        auth="payment_service_token",
        params={"order_id": "{{placed_order_id}}"},
        fields=("id", "order_number", "user_id", "status", "total_amount"),
        capture={
            "placed_order_number": "body.order_number",
            "placed_order_user_id": "body.user_id",
            "placed_order_total": "body.total_amount",
            "placed_order_currency": "body.currency",
        },
    ),
    Req(
        "Start an order's payment (as order)",
        "payment",
        "POST",
        "/internal/payments/",
        (200, 201),
        auth="order_service_token",
        body={
            "order_id": Var("placed_order_id"),
            "order_number": "{{placed_order_number}}",
            "user_id": Var("placed_order_user_id"),
            "status": "PENDING",
            "total_amount": "{{placed_order_total}}",
            "currency": "{{placed_order_currency}}",
        },
        fields=("payment_id", "order_id", "status", "amount", "checkout_url"),
        checks=check(
            "the order's amount", "body.amount === pm.collectionVariables.get('placed_order_total')"
        ),
    ),
    Req(
        "Start an order's payment as the product service (refused)",
        "payment",
        "POST",
        "/internal/payments/",
        403,
        auth="product_service_token",
        body={"order_id": Var("placed_order_id")},
        error="*",
    ),
    Req(
        "Report a payment failed (as payment)",
        "order",
        "POST",
        "/internal/orders/{order_id}/payment-failed/",
        auth="payment_service_token",
        params={"order_id": "{{placed_order_id}}"},
        body={"payment_reference": "postman-{{run}}-failed", "reason": "card_declined"},
        fields=("id", "status"),
        checks=check("cancelled", "body.status === 'CANCELLED'"),
    ),
    Req(
        "Report a payment succeeded (as payment)",
        "order",
        "POST",
        "/internal/orders/{order_id}/payment-succeeded/",
        auth="payment_service_token",
        params={"order_id": "{{api_placed_order_id}}"},
        body={"payment_reference": "postman-{{run}}-paid"},
        fields=("id", "status", "payment_reference"),
        checks=check("paid", "body.status === 'PAID'"),
    ),
    Req(
        # Only an order some payment paid can be refunded; this one was cancelled just above.
        "Report a refund of a cancelled order (as payment, 409)",
        "order",
        "POST",
        "/internal/orders/{order_id}/refunded/",
        409,
        auth="payment_service_token",
        params={"order_id": "{{placed_order_id}}"},
        body={"payment_reference": "postman-{{run}}-failed"},
        error="illegal_transition",
    ),
    Req(
        "Start a staff session (as product)",
        "user",
        "POST",
        "/internal/staff-sessions/",
        201,
        auth="product_service_token",
        body={
            "email": "{{staff_email}}",
            "password": "{{staff_password}}",
            "client_address": "127.0.0.1",
            "user_agent": "newman",
        },
        fields=("session_id", "user"),
        capture={"staff_session_id": "body.session_id"},
    ),
    Req(
        "Check the staff session (as product)",
        "user",
        "GET",
        "/internal/sessions/{session_id}/",
        auth="product_service_token",
        params={"session_id": "{{staff_session_id}}"},
        fields=("session_id", "active", "user"),
        checks=check("active", "body.active === true"),
    ),
    Req(
        "End the staff session (as product)",
        "user",
        "DELETE",
        "/internal/sessions/{session_id}/",
        204,
        auth="product_service_token",
        params={"session_id": "{{staff_session_id}}"},
    ),
]

SIGN_OUT = [
    Req(
        "Log the second customer out",
        "user",
        "POST",
        "/auth/logout/",
        204,
        auth="customer_token",
        body={"refresh": "{{customer_refresh}}"},
    ),
]

FOLDERS = [
    (
        "Checkout journey",
        "Sign up, log in, browse, add to the cart, check out, pay on the sandbox, "
        "track, refresh, log out: what a new customer does.",
        JOURNEY,
    ),
    (
        "User service",
        "Accounts, tokens, users and roles. Logs in the second customer, staff and "
        "admin for the folders after it.",
        USER,
    ),
    (
        "Product service",
        "Categories and products; makes the product the later folders buy.",
        PRODUCT,
    ),
    ("Cart service", "The second customer's cart.", CART),
    (
        "Order service",
        "Orders of the run's product; the journey's order confirmed, shipped and "
        "delivered by staff.",
        ORDER,
    ),
    ("Payment service", "Checkouts on the sandbox and the refused webhooks.", PAYMENT),
    ("Integration service", "Cart, order and payment in one service.", INTEGRATION),
    (
        "Internal (service credentials)",
        "Client-credentials tokens of the shop's own services and "
        "the internal endpoints each may call. The secrets are make run's .env values "
        "(<NAME>_CLIENT_SECRET): fill order_client_secret, payment_client_secret and "
        "product_client_secret in the environment, or use make newman.",
        INTERNAL,
    ),
    ("Sign out", "", SIGN_OUT),
]
