"""The whole shop under the server, on free ports, wired together over real HTTP, with the demo data
(demo users, demo catalog) loaded.

The database comes from the environment like everywhere else: SQLite files in a temporary folder by
default; with DB_ENGINE=mysql, fresh `e2e_*` schemas on that server.
"""

import os
import time
import uuid

import httpx
import pytest

from shop_common.demo import DEMO_LOGINS
from shop_common.testing.stack import login, service_token
from tests.e2e.browser import browser  # noqa: F401 (a fixture)
from tests.e2e.helpers import running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    # Every test connects from 127.0.0.1: one address, for the signup limit, is the whole suite.
    # The limits themselves are tested on a stack of their own (test_trust_boundaries).
    # COUNT_SQL_QUERIES: the access lines say how many SQL statements each request ran
    # (test_query_budget.py); LOG_SQL_STATEMENTS=True in this run's environment lists them too.
    settings = {
        "COUNT_SQL_QUERIES": True,
        "LOG_SQL_STATEMENTS": os.environ.get("LOG_SQL_STATEMENTS", "").lower() == "true",
    }
    with running_stack(
        tmp_path_factory, "stack", SIGNUP_RATE_PER_IP="10000/hour", settings=settings
    ) as shop:
        yield shop


@pytest.fixture(scope="session")
def token_of(stack):
    """``token_of("STAFF")``: an access token of the demo user with that role (one login per role)."""
    tokens: dict[str, tuple[str, float]] = {}

    def token(role: str) -> str:
        # Access tokens live 5 minutes, and the suite longer: a token near its end is replaced.
        if role not in tokens or tokens[role][1] < time.monotonic():
            answer = login(stack, *DEMO_LOGINS[role])
            tokens[role] = (answer["access"], time.monotonic() + answer["expires_in"] - 60)
        return tokens[role][0]

    return token


@pytest.fixture(scope="session")
def service_token_of(stack):
    """``service_token_of("order")``: that service's client-credentials token (scope internal)."""

    def token(service_name: str) -> str:
        return service_token(stack, service_name)

    return token


@pytest.fixture
def new_product(stack, token_of):
    """``new_product(price="5.00", quantity=20)``: a product of its own for a test, made by staff."""

    def make(*, price: str = "10.00", quantity: int = 10) -> dict:
        staff = httpx.Client(
            base_url=stack.url("product"), headers={"Authorization": f"Bearer {token_of('STAFF')}"}
        )
        category = staff.get("/category/").json()["results"][0]["id"]
        sku = f"E2E-{uuid.uuid4().hex[:10]}"
        created = staff.post(
            "/products/",
            json={
                "title": f"Test {sku}",
                "sku": sku,
                "category": category,
                "price": price,
                "quantity": quantity,
            },
        )
        assert created.status_code == 201, created.text
        return created.json()

    return make
