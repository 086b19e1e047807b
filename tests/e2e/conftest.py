"""The whole shop under gunicorn, on free ports, wired together over real HTTP, with the demo data
(demo users, demo catalog) loaded.

The database comes from the environment like everywhere else: SQLite files in a temporary folder by
default; with DB_ENGINE=mysql, fresh `e2e_*` schemas on that server.
"""

import time
import uuid

import httpx
import pytest

from shop_common.demo import DEMO_LOGINS
from shop_common.topology import SERVICES_BY_NAME
from tests.e2e.browser import browser  # noqa: F401 (a fixture)
from tests.e2e.helpers import running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    # Every test connects from 127.0.0.1: one address, for the signup limit, is the whole suite.
    # The limits themselves are tested on a stack of their own (test_trust_boundaries).
    # COUNT_SQL_QUERIES: the access lines say how many SQL statements each request ran
    # (test_query_budget.py).
    with running_stack(
        tmp_path_factory, "stack", SIGNUP_RATE_PER_IP="10000/hour", COUNT_SQL_QUERIES="True"
    ) as shop:
        yield shop


@pytest.fixture(scope="session")
def token_of(stack):
    """``token_of("STAFF")``: an access token of the demo user with that role (one login per role)."""
    tokens: dict[str, tuple[str, float]] = {}

    def token(role: str) -> str:
        # Access tokens live 5 minutes, and the suite longer: a token near its end is replaced.
        if role not in tokens or tokens[role][1] < time.monotonic():
            email, password = DEMO_LOGINS[role]
            login = httpx.post(
                f"{stack.url('user')}/auth/login/",
                json={"email": email, "password": password},
                timeout=30,
            )
            assert login.status_code == 200, login.text
            answer = login.json()
            tokens[role] = (answer["access"], time.monotonic() + answer["expires_in"] - 60)
        return tokens[role][0]

    return token


@pytest.fixture(scope="session")
def service_token_of(stack):
    """``service_token_of("order")``: that service's client-credentials token (scope internal)."""

    def token(service_name: str) -> str:
        service = SERVICES_BY_NAME[service_name]
        response = httpx.post(
            f"{stack.url('user')}/o/token/",
            data={"grant_type": "client_credentials", "scope": "internal"},
            auth=(service.client_id, stack.secrets[service.client_secret_variable]),
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

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
