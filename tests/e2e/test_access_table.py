"""Every route of every service, and who may call it (tests/e2e/access_table.py).

- The inventory: each service's ``manage.py list_routes`` against the table. A mounted route without
  a row fails (nobody has decided who may call it), and so does a row whose route is gone.
- The matrix: one test per row, sending its request as each of the 12 identities, with and without
  the trailing slash, and reporting every cell that differs at once.
"""

import json
import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from string import Formatter
from typing import Any

import httpx
import pytest

from shop_common.demo import DEMO_LOGINS
from shop_common.testing.data import ADDRESS
from shop_common.testing.stack import login
from shop_common.topology import SERVICES
from tests.e2e.access_table import (
    ACCESS_TABLE,
    ADMIN_PREFIX,
    DENIED,
    OK,
    PEOPLE,
    SEND_ORDER,
    SHOP_SERVICES,
    Expected,
    Row,
    table_routes,
)
from tests.e2e.helpers import bearer

CUSTOMER_PASSWORD = "a-long-enough-passphrase-7"
# The table's own requests come from another loopback address: the user service counts failed
# credential checks per client address (the OAuth2 rows send none that pass), and the table must
# not use up the budget of 127.0.0.1, which every other test logs in from.
MATRIX_ADDRESS = "127.0.0.2"
DENIALS = (401, 403, 404, 405)
# For the setup calls: logins hash passwords, slow on a busy machine; httpx's default is 5 s.
http = httpx.Client(timeout=30)


# --- the inventory ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mounted_routes(stack) -> dict[str, list[dict[str, str]]]:
    """Each service's routes, from its own ``manage.py list_routes`` (all six at once)."""
    names = [service.name for service in SERVICES]
    with ThreadPoolExecutor(len(names)) as pool:
        outputs = pool.map(lambda name: stack.manage(name, "list_routes"), names)
    return {name: json.loads(output) for name, output in zip(names, outputs, strict=True)}


@pytest.mark.parametrize("service", [service.name for service in SERVICES])
def test_every_mounted_route_is_in_the_access_table(mounted_routes, service):
    rows = table_routes(service)
    mounted = {}
    for route in mounted_routes[service]:
        pattern = route["pattern"]
        key = ADMIN_PREFIX if ADMIN_PREFIX in rows and pattern.startswith("admin/") else pattern
        mounted.setdefault(key, route["view"])

    problems = [
        f"route {pattern!r} of service {service!r} ({view}) is mounted but not in the access "
        "table: review who may call it and add it (tests/e2e/access_table.py)"
        for pattern, view in sorted(mounted.items())
        if pattern not in rows
    ] + [
        f"the access table has a row for route {pattern!r} of service {service!r}, which is not "
        "mounted: remove the row (or mount the route)"
        for pattern in sorted(rows - mounted.keys())
    ]
    assert not problems, "\n".join(problems)


# --- the identities and the objects the rows ask about ------------------------------------------


def validation(stack, token: str) -> dict:
    response = http.post(f"{stack.url('user')}/auth/validate/", json={"token": token})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def foreign_client_token(stack) -> str:
    """A client-credentials token of a confidential application that is none of the shop's own."""
    client_id, secret = f"foreign-{secrets.token_hex(4)}", secrets.token_urlsafe(32)
    stack.manage(
        "user",
        "createapplication",
        "--name",
        "Foreign",
        "--client-id",
        client_id,
        # One argument: a random secret may start with "-", which would read as an option.
        f"--client-secret={secret}",
        "confidential",
        "client-credentials",
    )
    response = http.post(
        f"{stack.url('user')}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def tokens(stack, token_of, service_token_of, foreign_client_token) -> dict[str, str | None]:
    makers: dict[str, Callable[[], str]] = {
        "customer_a": stack.new_customer_token,
        "customer_b": stack.new_customer_token,
        "staff": lambda: token_of("STAFF"),
        "admin": lambda: token_of("ADMIN"),
        **{f"svc_{name}": partial(service_token_of, name) for name in SHOP_SERVICES},
    }
    # Every one of them runs a password hasher at the user service: side by side, not in a row.
    with ThreadPoolExecutor(4) as pool:
        made = dict(zip(makers, pool.map(lambda make: make(), makers.values()), strict=True))
    return {"anonymous": None, "foreign_client": foreign_client_token, **made}


class World:
    """The objects the rows' paths name (``values``) and how to make another one (``factories``)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.factories: dict[str, Callable[[], Any]] = {}
        self.fresh_login: Callable[[str], str] = lambda identity: ""
        # Objects that could not be made, and why: the rows that name them fail, the others run.
        self.broken: dict[str, str] = {}

    def make(self, name: str, factory: Callable[[], Any], *, again: bool = False) -> None:
        try:
            self.values[name] = factory()
        except Exception as exc:
            self.broken[name] = f"{type(exc).__name__}: {exc}"
        if again:
            self.factories[name] = factory


@pytest.fixture(scope="module")
def world(stack, tokens) -> World:
    world = World()
    values = world.values
    url = stack.url
    as_a, as_staff, as_admin = (
        bearer(tokens["customer_a"]),
        bearer(tokens["staff"]),
        bearer(tokens["admin"]),
    )

    def ok(response: httpx.Response) -> dict:
        assert response.status_code < 300, f"{response.request.url}: {response.text}"
        return response.json() if response.content else {}

    category = ok(http.get(f"{url('product')}/category/"))["results"][0]["id"]

    def new_product() -> int:
        sku = f"ACCESS-{secrets.token_hex(5)}"
        # Dearer than the demo catalog and stocked within a cart line's maximum (99), so that
        # tests picking the cheapest demo product never pick one of these.
        body = {"title": sku, "sku": sku, "category": category, "price": "999.00", "quantity": 90}
        return ok(http.post(f"{url('product')}/products/", json=body, headers=as_staff))["id"]

    def new_category() -> int:
        name = f"Access {secrets.token_hex(5)}"
        return ok(http.post(f"{url('product')}/category/", json={"name": name}, headers=as_staff))[
            "id"
        ]

    product = new_product()
    values.update(product=product, category=category)
    world.make("edit_product", new_product)
    world.make("deleted_product", new_product)
    world.make("edit_category", new_category)
    world.make("deleted_category", new_category, again=True)

    # Customer A's cart line, orders and payment.
    def new_cart_item() -> int:
        cart = ok(
            http.post(
                f"{url('cart')}/api/cart/add/",
                json={"product_id": new_product(), "quantity": 1},
                headers=as_a,
            )
        )
        return max(item["id"] for item in cart["items"])

    def new_order() -> int:
        body = {"items": [{"product_id": product, "quantity": 1}], "shipping_address": ADDRESS}
        return ok(http.post(f"{url('order')}/orders/", json=body, headers=as_a))["id"]

    world.make("cart_item", new_cart_item, again=True)
    world.make("order", new_order)
    world.make("cancelled_order", new_order)
    world.make("confirmed_order", new_order)
    world.make(
        "payment",
        lambda: ok(
            http.post(
                f"{url('payment')}/service/", json={"order_id": values["order"]}, headers=as_a
            )
        )["payment_id"],
    )

    # Customer A's account; an account to delete, and its sessions to end.
    values["token_a"] = tokens["customer_a"]
    values["user_a"] = validation(stack, tokens["customer_a"])["user_id"]
    victim_email = f"victim-{secrets.token_hex(5)}@shop.test"
    values["victim_user"] = ok(
        http.post(
            f"{url('user')}/users/",
            json={"email": victim_email, "password": CUSTOMER_PASSWORD},
            headers=as_admin,
        )
    )["id"]
    # The account to delete is a different one from the one whose sessions are ended (a deleted
    # account cannot log in).
    session_email = f"sessions-{secrets.token_hex(5)}@shop.test"
    ok(
        http.post(
            f"{url('user')}/users/",
            json={"email": session_email, "password": CUSTOMER_PASSWORD},
            headers=as_admin,
        )
    )

    def new_session() -> str:
        access = login(stack, session_email, CUSTOMER_PASSWORD)["access"]
        return validation(stack, access)["session_id"]

    world.make("victim_session", new_session, again=True)
    values["throwaway_refresh"] = login(stack, session_email, CUSTOMER_PASSWORD)["refresh"]
    values["svc_cart_token"] = tokens["svc_cart"]

    # POST /auth/logout/ ends the session of the token it is sent with: people send a new one.
    emails = {
        "customer_a": validation(stack, tokens["customer_a"])["email"],
        "customer_b": validation(stack, tokens["customer_b"])["email"],
    }

    def log_in(identity: str) -> str:
        if identity in emails:
            return login(stack, emails[identity], CUSTOMER_PASSWORD)["access"]
        return login(stack, *DEMO_LOGINS[identity.upper()])["access"]

    # One login per person and spelling, made beforehand side by side.
    with ThreadPoolExecutor(4) as pool:
        logins = {identity: list(pool.map(log_in, [identity] * 2)) for identity in PEOPLE}

    def fresh_login(identity: str) -> str:
        return logins[identity].pop() if logins[identity] else log_in(identity)

    world.fresh_login = fresh_login
    return world


@pytest.fixture(scope="module")
def matrix_client():
    with httpx.Client(
        transport=httpx.HTTPTransport(local_address=MATRIX_ADDRESS), timeout=15
    ) as client:
        yield client


# --- the matrix ---------------------------------------------------------------------------------


def spellings(path: str) -> tuple[str, str]:
    """The path as written and with/without its trailing slash (the query string stays)."""
    route, question, query = path.partition("?")
    other = route[:-1] if route.endswith("/") else f"{route}/"
    return path, f"{other}{question}{query}"


def fill(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    return value


def error_code(response: httpx.Response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def matches(expected: Expected, response: httpx.Response) -> bool:
    status = response.status_code
    if expected == OK:
        return status not in DENIALS and status < 500
    if expected == DENIED:
        return status in (401, 403)
    if isinstance(expected, str):
        wanted_status, _, code = expected.partition(" ")
        return status == int(wanted_status) and error_code(response) == code
    return status == expected


def csrf_form(client: httpx.Client, url: str) -> tuple[dict[str, str], dict[str, str]]:
    """The CSRF cookie and form field of one of Django's HTML forms."""
    page = client.get(url)
    field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    cookie = page.cookies.get("csrftoken", "")
    client.cookies.clear()
    return {"Cookie": f"csrftoken={cookie}"}, {
        "csrfmiddlewaretoken": field.group(1) if field else ""
    }


def send(
    client: httpx.Client, stack, row: Row, path: str, token: str | None, world: World
) -> httpx.Response:
    url = f"{stack.url(row.service)}/{path}"
    headers = dict(row.headers)
    form = fill(row.form, world.values) if row.form is not None else None
    if row.csrf:
        cookie, field = csrf_form(client, url)
        headers.update(cookie)
        form = {**(form or {}), **field}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        return client.request(
            row.method,
            url,
            headers=headers,
            json=fill(row.json, world.values) if row.json is not None else None,
            data=form,
            content=row.content,
        )
    finally:
        # The shared client must not carry a session or CSRF cookie from one cell to the next.
        client.cookies.clear()


def excerpt(response: httpx.Response) -> str:
    return " ".join(response.text.split())[:160]


def probes(row: Row) -> list[tuple[str, dict[str, Expected]]]:
    return [
        (row.concrete_path, row.expect),
        *((path, dict.fromkeys(row.expect, value)) for path, value in row.also),
    ]


def placeholders(row: Row) -> set[str]:
    texts = [row.concrete_path, json.dumps(row.json), json.dumps(row.form)]
    return {name for text in texts for _, name, _, _ in Formatter().parse(text) if name}


@pytest.mark.parametrize("row", ACCESS_TABLE, ids=lambda row: row.id)
def test_access(row, stack, tokens, world, matrix_client):
    missing = {name: world.broken[name] for name in placeholders(row) if name in world.broken}
    if missing:
        pytest.fail(f"{row.id}: could not make what the request names: {missing}")
    mismatches = []
    for template, expect in probes(row):
        for identity in SEND_ORDER:
            expected = expect[identity]
            for spelling in spellings(template):
                values = world.values
                if expected == OK and row.fresh:
                    values = {**values, **{name: world.factories[name]() for name in row.fresh}}
                token = tokens[identity]
                if row.fresh_login and identity in PEOPLE:
                    token = world.fresh_login(identity)
                path = spelling.format(**values)
                response = send(matrix_client, stack, row, path, token, world)
                if not matches(expected, response):
                    mismatches.append(
                        f"  {identity:<16} {row.method} /{path}: expected {expected}, "
                        f"got {response.status_code}: {excerpt(response)}"
                    )
    assert not mismatches, f"{row.id} ({len(mismatches)} cells differ):\n" + "\n".join(mismatches)
