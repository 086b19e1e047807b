"""The access table: for every route each service mounts, who may call it.

One row per (service, route pattern, method). The route is the pattern exactly as
``manage.py list_routes`` prints it (``"orders/<id:order_id>/"``); the Django admin is one prefix
row ``"admin/*"`` per service that mounts it, checked on a few concrete admin URLs. Each row names,
for each of the 12 identities in :data:`IDENTITIES`, the expected answer:

- an exact status (``401``, ``403``, ``404``, ``302``...),
- ``"404 <code>"``: that status with that error code (a domain 404 behind the access check, e.g.
  ``reservation_not_found``, as opposed to an unknown path or a hidden object),
- :data:`OK`: passed the access check, i.e. any status but 401, 403, 404, 405 and 5xx,
- :data:`DENIED`: 401 or 403 (only where the rule itself allows either).

``tests/e2e/test_access_table.py`` sends every row's request as every identity (both spellings of the
path, with and without the trailing slash) and checks that every route a service mounts has a row
here and every row is still mounted. A new route fails that test until someone decides who may call
it and adds it below.

Paths are templates: ``{name}`` is filled from the objects the test makes first (customer A's order,
cart line, payment...). ``fresh`` names placeholders that get a new object for every request an
identity is expected to pass (deleting a category twice would otherwise be a 404 the second time);
denied identities get the standing object, which a correct denial does not touch.
"""

from dataclasses import dataclass, field
from typing import Any

OK = "OK"
DENIED = "DENIED"
ADMIN_PREFIX = "admin/*"

PEOPLE = ("customer_a", "customer_b", "staff", "admin")
SHOP_SERVICES = ("user", "product", "cart", "order", "payment", "integration")
SERVICE_IDENTITIES = tuple(f"svc_{name}" for name in SHOP_SERVICES)
IDENTITIES = ("anonymous", *PEOPLE, "foreign_client", *SERVICE_IDENTITIES)
# The order requests are sent in: the identities that are usually refused first, then the owner,
# then staff and admin, so that an allowed call (a cancel, a confirm) comes after every check that
# needs the object as it was.
SEND_ORDER = (
    "anonymous",
    "foreign_client",
    *SERVICE_IDENTITIES,
    "customer_b",
    "customer_a",
    "staff",
    "admin",
)

Expected = int | str


@dataclass(frozen=True)
class Row:
    service: str
    route: str
    method: str
    expect: dict[str, Expected]
    # The concrete path to request (default: the route itself); {name} is filled by the test.
    path: str = ""
    json: Any = None
    form: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Placeholders that get a new object for each request an identity is expected to pass.
    fresh: tuple[str, ...] = ()
    # The people send a token of a login of their own for this row (logout ends the session).
    fresh_login: bool = False
    # An HTML form of Django's: fetch its CSRF token first.
    csrf: bool = False
    # More concrete paths and what everyone gets there (the admin/* prefix row only).
    also: tuple[tuple[str, Expected], ...] = ()
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.service}:{self.method}:{self.route}"

    @property
    def concrete_path(self) -> str:
        return self.path or self.route


# --- who gets what ------------------------------------------------------------------------------


def everyone(value: Expected = OK) -> dict[str, Expected]:
    return {identity: value for identity in IDENTITIES}


def public_read() -> dict[str, Expected]:
    """Public, and a person's token changes nothing; a token that is no person's (a foreign
    client's, a shop service's) is refused as any invalid token is: 401 ``invalid_token``."""
    return {**everyone(), "foreign_client": 401, **{name: 401 for name in SERVICE_IDENTITIES}}


def people_only(
    *,
    customer_a: Expected = OK,
    customer_b: Expected = OK,
    staff: Expected = OK,
    admin: Expected = OK,
) -> dict[str, Expected]:
    """A person's token is required: no token, a foreign client's or a shop service's is a 401."""
    return {
        **everyone(401),
        "customer_a": customer_a,
        "customer_b": customer_b,
        "staff": staff,
        "admin": admin,
    }


def owner_or_staff() -> dict[str, Expected]:
    """Customer A's object: A, STAFF and ADMIN see it; customer B gets 404 (existence not leaked)."""
    return people_only(customer_b=404)


def owner_or_admin() -> dict[str, Expected]:
    """Customer A's account: A and ADMIN; anybody else 404."""
    return people_only(customer_b=404, staff=404)


def staff_role() -> dict[str, Expected]:
    return people_only(customer_a=403, customer_b=403)


def admin_role() -> dict[str, Expected]:
    return people_only(customer_a=403, customer_b=403, staff=403)


def internal(*callers: str, allowed: Expected = OK) -> dict[str, Expected]:
    """A service-to-service endpoint: a person's token is a 401, the foreign client a 403, and of
    the shop's services only ``callers``."""
    return {
        **everyone(401),
        "foreign_client": 403,
        **{f"svc_{name}": (allowed if name in callers else 403) for name in SHOP_SERVICES},
    }


# --- rows -----------------------------------------------------------------------------------------


def common_rows(service: str) -> list[Row]:
    return [
        Row(service, "health/", "GET", everyone()),
        Row(service, "api/schema/", "GET", everyone(), path="api/schema/?format=json"),
        Row(service, "api/docs/", "GET", everyone()),
        # Only the metrics token reads it; the suite's stack has none (DEBUG off): closed to all.
        # The token itself: tests/e2e/test_observability.py.
        Row(service, "metrics", "GET", everyone(403)),
    ]


def admin_row(service: str, *pages: str) -> Row:
    """Every route under admin/: the Django admin uses sessions, so a bearer token changes nothing.
    Its pages send everyone to the admin's login page, which is served to everyone."""
    return Row(
        service,
        ADMIN_PREFIX,
        "GET",
        everyone(302),
        path="admin/",
        also=(("admin/login/", 200), *((page, 302) for page in pages)),
    )


USER = [
    *common_rows("user"),
    admin_row("user", "admin/accounts/user/", "admin/oauth2_provider/application/"),
    Row("user", "auth/signup/", "POST", everyone(), json={}),
    Row("user", "auth/login/", "POST", everyone(), json={}),
    Row("user", "auth/refresh/", "POST", everyone(), json={}),
    Row(
        "user",
        "auth/logout/",
        "POST",
        everyone(),
        json={"refresh": "{throwaway_refresh}"},
        fresh_login=True,
        note="ends a throwaway session; people send a token of a login of their own",
    ),
    Row("user", "auth/validate/", "POST", everyone(), json={"token": "{token_a}"}),
    Row(
        "user",
        "auth/validate_token",
        "GET",
        {**everyone(), "foreign_client": 401, **dict.fromkeys(SERVICE_IDENTITIES, 401)},
        path="auth/validate_token?token={token_a}",
        note="the header wins over ?token=: a service token is validated, and is no user token",
    ),
    Row("user", "oauth/", "GET", everyone()),
    Row("user", "login/", "GET", everyone()),
    Row(
        "user",
        "login/",
        "POST",
        everyone(),
        form={},
        csrf=True,
        note="an empty form: re-rendered with its errors, no password is checked",
    ),
    Row("user", "users/", "GET", admin_role()),
    Row("user", "users/", "POST", admin_role(), json={}),
    Row("user", "users/<id:user_id>/", "GET", owner_or_admin(), path="users/{user_a}/"),
    Row("user", "users/<id:user_id>/", "PUT", owner_or_admin(), path="users/{user_a}/", json={}),
    Row("user", "users/<id:user_id>/", "PATCH", owner_or_admin(), path="users/{user_a}/", json={}),
    Row(
        "user",
        "users/<id:user_id>/",
        "DELETE",
        people_only(customer_a=404, customer_b=404, staff=404),
        path="users/{victim_user}/",
        note="an account made to be deleted",
    ),
    Row("user", "users/<id:user_id>/roles/", "GET", admin_role(), path="users/{user_a}/roles/"),
    Row(
        "user",
        "users/<id:user_id>/roles/",
        "POST",
        admin_role(),
        path="users/{user_a}/roles/",
        json={},
    ),
    Row("user", "roles/", "GET", admin_role()),
    Row("user", "roles/", "POST", admin_role(), json={}),
    # OAuth2: only these four of django-oauth-toolkit's views may be mounted.
    Row(
        "user",
        "o/authorize/",
        "GET",
        everyone(302),
        path="o/authorize/?response_type=code&client_id=shop-oauth-demo",
        note="a person logs in first (sessions; a bearer token changes nothing)",
    ),
    Row("user", "o/token/", "POST", everyone(), form={"grant_type": "not-a-grant"}),
    Row(
        "user",
        "o/revoke_token/",
        "POST",
        everyone(),
        form={"token": "not-a-token", "client_id": "shop-oauth-demo"},
    ),
    Row(
        "user",
        "o/introspect/",
        "POST",
        everyone(DENIED),
        form={"token": "{svc_cart_token}"},
        note="only a shop service's token with scope introspection (none of these has it)",
    ),
    Row(
        "user",
        "o/jwks/",
        "GET",
        everyone(),
        note="the public keys of the services' signed tokens: public, they cannot sign",
    ),
    # The staff admins' login (shop_common.staff_admin) in the product and payment services.
    Row("user", "internal/staff-sessions/", "POST", internal("product", "payment"), json={}),
    Row(
        "user",
        "internal/sessions/<uuid:session_id>/",
        "GET",
        internal("product", "payment"),
        path="internal/sessions/{victim_session}/",
    ),
    Row(
        "user",
        "internal/sessions/<uuid:session_id>/",
        "DELETE",
        internal("product", "payment"),
        path="internal/sessions/{victim_session}/",
        fresh=("victim_session",),
    ),
]

PRODUCT = [
    *common_rows("product"),
    admin_row("product", "admin/catalog/product/", "admin/catalog/category/"),
    Row("product", "products/", "GET", public_read()),
    Row("product", "products/", "POST", staff_role(), json={}),
    Row("product", "products/<id:product_id>/", "GET", public_read(), path="products/{product}/"),
    Row(
        "product",
        "products/<id:product_id>/",
        "PUT",
        staff_role(),
        path="products/{edit_product}/",
        json={},
    ),
    Row(
        "product",
        "products/<id:product_id>/",
        "PATCH",
        staff_role(),
        path="products/{edit_product}/",
        json={},
    ),
    Row(
        "product",
        "products/<id:product_id>/",
        "DELETE",
        staff_role(),
        path="products/{deleted_product}/",
        note="a product made to be deactivated (deactivating twice is fine)",
    ),
    Row("product", "category/", "GET", public_read()),
    Row("product", "category/", "POST", staff_role(), json={}),
    Row("product", "category/<id:category_id>/", "GET", public_read(), path="category/{category}/"),
    Row(
        "product",
        "category/<id:category_id>/",
        "PUT",
        staff_role(),
        path="category/{edit_category}/",
        json={},
    ),
    Row(
        "product",
        "category/<id:category_id>/",
        "PATCH",
        staff_role(),
        path="category/{edit_category}/",
        json={},
    ),
    Row(
        "product",
        "category/<id:category_id>/",
        "DELETE",
        staff_role(),
        path="category/{deleted_category}/",
        fresh=("deleted_category",),
    ),
    Row(
        "product",
        "internal/products/",
        "GET",
        internal("cart", "order"),
        path="internal/products/?ids={product}",
    ),
    Row(
        "product",
        "internal/stock/reserve/",
        "POST",
        internal("order"),
        json={"order_ref": "access-table"},
        note="no lines: a 400, nothing is reserved",
    ),
    Row(
        "product",
        "internal/stock/commit/",
        "POST",
        internal("order", allowed="404 reservation_not_found"),
        json={"order_ref": "access-table-no-such-order"},
    ),
    Row(
        "product",
        "internal/stock/release/",
        "POST",
        internal("order", allowed="404 reservation_not_found"),
        json={"order_ref": "access-table-no-such-order"},
    ),
]

CART = [
    *common_rows("cart"),
    Row("cart", "api/cart/", "GET", people_only()),
    Row("cart", "api/cart/add/", "POST", people_only(), json={}),
    Row(
        "cart",
        "api/cart/update/<id:item_id>/",
        "POST",
        people_only(customer_b=404, staff=404, admin=404),
        path="api/cart/update/{cart_item}/",
        json={"quantity": 1},
        fresh=("cart_item",),
        note="a cart is its owner's alone: a line of A's is a 404 to everybody else",
    ),
    Row(
        "cart",
        "api/cart/remove/<id:item_id>/",
        "DELETE",
        people_only(customer_b=404, staff=404, admin=404),
        path="api/cart/remove/{cart_item}/",
        fresh=("cart_item",),
    ),
    Row("cart", "api/cart/clear/", "POST", people_only()),
    Row("cart", "api/cart/checkout/", "POST", people_only(), json={}),
    Row("cart", "api/cart/checkout/complete/", "POST", people_only(), json={}),
    Row("cart", "api/cart/checkout/cancel/", "POST", people_only(), json={}),
]


def order_rows(prefix: str) -> list[Row]:
    route = f"{prefix}orders/<id:order_id>/"
    return [
        Row("order", f"{prefix}orders/", "POST", people_only(), json={}),
        Row("order", f"{prefix}orders/history/", "GET", people_only()),
        Row("order", route, "GET", owner_or_staff(), path=f"{prefix}orders/{{order}}/"),
        Row(
            "order",
            f"{route}track/",
            "GET",
            owner_or_staff(),
            path=f"{prefix}orders/{{order}}/track/",
        ),
        Row(
            "order",
            f"{route}cancel/",
            "POST",
            owner_or_staff(),
            path=f"{prefix}orders/{{cancelled_order}}/cancel/",
            note="an order made to be cancelled; cancelling it again is a 409",
        ),
        Row(
            "order",
            f"{route}confirm/",
            "POST",
            staff_role(),
            path=f"{prefix}orders/{{confirmed_order}}/confirm/",
            note="an order made to be confirmed; confirming it again is a 409",
        ),
        Row(
            "order",
            f"{route}status/",
            "PUT",
            staff_role(),
            path=f"{prefix}orders/{{order}}/status/",
            json={},
        ),
    ]


ORDER = [
    *common_rows("order"),
    *order_rows(""),
    *order_rows("api/"),
    Row(
        "order",
        "internal/orders/<id:order_id>/",
        "GET",
        internal("payment"),
        path="internal/orders/{order}/",
    ),
    Row(
        "order",
        "internal/orders/<id:order_id>/payment-succeeded/",
        "POST",
        internal("payment"),
        path="internal/orders/{order}/payment-succeeded/",
        json={},
        note="an invalid body: A's order is never marked paid",
    ),
    Row(
        "order",
        "internal/orders/<id:order_id>/payment-failed/",
        "POST",
        internal("payment"),
        path="internal/orders/{order}/payment-failed/",
        json={},
    ),
    Row(
        "order",
        "internal/orders/<id:order_id>/refunded/",
        "POST",
        internal("payment"),
        path="internal/orders/{order}/refunded/",
        json={},
        note="an invalid body: A's order is never refunded",
    ),
]

BAD_SIGNATURE = {"Stripe-Signature": "t=1,v1=not-a-signature", "Content-Type": "application/json"}
BAD_RAZORPAY_SIGNATURE = {
    "X-Razorpay-Signature": "0" * 64,
    "X-Razorpay-Event-Id": "evt_access_table",
    "Content-Type": "application/json",
}

PAYMENT = [
    *common_rows("payment"),
    admin_row(
        "payment",
        "admin/payments/payment/",
        "admin/payments/payment/1/refund/",
        "admin/payments/refund/",
        "admin/payments/webhookevent/",
        "admin/payments/ordernotice/",
    ),
    Row("payment", "service/", "POST", people_only(), json={}),
    Row(
        "payment",
        "internal/payments/",
        "POST",
        internal("order"),
        json={},
        note="an invalid body: no payment is started",
    ),
    Row("payment", "payment/service/", "POST", people_only(), json={}),
    Row("payment", "webhook/stripe/", "POST", everyone(400), content=b"{}", headers=BAD_SIGNATURE),
    Row(
        "payment",
        "payment/webhook/stripe/",
        "POST",
        everyone(400),
        content=b"{}",
        headers=BAD_SIGNATURE,
    ),
    Row(
        "payment",
        "webhook/razorpay/",
        "POST",
        everyone(400),
        content=b"{}",
        headers=BAD_RAZORPAY_SIGNATURE,
    ),
    Row("payment", "payments/", "GET", people_only()),
    Row(
        "payment",
        "payments/<id:payment_id>/",
        "GET",
        owner_or_staff(),
        path="payments/{payment}/",
    ),
    Row(
        "payment",
        "payments/<id:payment_id>/refund/",
        "POST",
        staff_role(),
        path="payments/{payment}/refund/",
        json={"reason": "access table"},
        headers={"Idempotency-Key": "access-table"},
        note="A's payment is unpaid: staff get 409 payment_not_refundable, nothing moves",
    ),
    Row("payment", "payments/success/", "GET", everyone()),
    Row("payment", "payments/cancel/", "GET", everyone()),
]


def integration_rows(prefix: str) -> list[Row]:
    return [
        Row("integration", f"{prefix}cart/add/", "POST", people_only(), json={}),
        Row("integration", f"{prefix}orders/place/", "POST", people_only(), json={}),
        Row(
            "integration",
            f"{prefix}payment/initiate/",
            "POST",
            people_only(),
            json={"order_id": 0},
            note="order_id 0 is invalid: no payment is started for anybody's newest order",
        ),
        Row("integration", f"{prefix}checkout/", "POST", people_only(), json={}),
    ]


INTEGRATION = [*common_rows("integration"), *integration_rows(""), *integration_rows("api/")]

ACCESS_TABLE: list[Row] = [*USER, *PRODUCT, *CART, *ORDER, *PAYMENT, *INTEGRATION]


def table_routes(service: str) -> set[str]:
    """The route patterns the table has rows for, for one service."""
    return {row.route for row in ACCESS_TABLE if row.service == service}
