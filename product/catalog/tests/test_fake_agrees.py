"""The cart's and the order service's tests run against FakeProductService
(shop_common.testing.fakes). The same reservations, commits, releases and lookups, sent to the fake
and to this service's real internal API, must give the same answers and leave the same stock; a
rule changed on one side only fails here."""

import httpx
import pytest

from catalog.tests.factories import ProductFactory
from shop_common.testing.fakes import FakeProductService

pytestmark = pytest.mark.django_db

FAKE_URL = "http://fake-product.test"
# Named products, made alike on both sides: (available, active).
SHELF = {"pen": (5, True), "ink": (2, True), "retired": (3, False)}
UNKNOWN = 987654

SCENARIOS = {
    "reserved": [("reserve", "r1", {"pen": 3, "ink": 2})],
    "reserved twice with one reference": [
        ("reserve", "r1", {"pen": 3}),
        ("reserve", "r1", {"pen": 3}),
    ],
    "short on one line": [("reserve", "r1", {"pen": 1, "ink": 3})],
    "an inactive product": [("reserve", "r1", {"pen": 1, "retired": 1})],
    "an inactive product and a short line": [("reserve", "r1", {"ink": 3, "retired": 1})],
    "short after another reservation": [
        ("reserve", "r1", {"ink": 2}),
        ("reserve", "r2", {"ink": 1}),
    ],
    "committed": [("reserve", "r1", {"pen": 2}), ("commit", "r1")],
    "committed twice": [("reserve", "r1", {"pen": 2}), ("commit", "r1"), ("commit", "r1")],
    "released": [("reserve", "r1", {"pen": 2}), ("release", "r1")],
    "released twice": [("reserve", "r1", {"pen": 2}), ("release", "r1"), ("release", "r1")],
    "released after its commit": [
        ("reserve", "r1", {"pen": 2}),
        ("commit", "r1"),
        ("release", "r1"),
    ],
    "committed after its release": [
        ("reserve", "r1", {"pen": 2}),
        ("release", "r1"),
        ("commit", "r1"),
    ],
    "a reference never reserved": [("commit", "r9"), ("release", "r9")],
}


class Side:
    """One product service (the real API or the fake) and its products by name."""

    def __init__(self, post, get, ids: dict[str, int]) -> None:
        self.post, self.get, self.ids = post, get, ids
        self.names = {product_id: name for name, product_id in ids.items()}

    def step(self, action: str, ref: str, lines: dict[str, int] | None = None) -> tuple:
        if action == "reserve":
            body = {
                "order_ref": ref,
                "lines": [{"product_id": self.ids[n], "quantity": q} for n, q in lines.items()],
            }
        else:
            body = {"order_ref": ref}
        return self.outcome(self.post(f"/internal/stock/{action}/", body))

    def outcome(self, response) -> tuple:
        """Status, then the error code with the short lines and the products not for sale by name,
        or the reservation's state and its lines by name."""
        body = response.json()
        if "error" in body:
            details = body["error"]["details"]
            short = [
                {**line, "product_id": self.names[line["product_id"]]}
                for line in details.get("lines", [])
            ]
            not_for_sale = [self.names[pid] for pid in details.get("product_ids", [])]
            return response.status_code, body["error"]["code"], sorted(short, key=str), not_for_sale
        lines = [{**line, "product_id": self.names[line["product_id"]]} for line in body["lines"]]
        return response.status_code, body["status"], sorted(lines, key=str)

    def lookup(self) -> dict:
        """The batch lookup of every product and an unknown id, by name."""
        ids = ",".join(str(i) for i in [*self.ids.values(), UNKNOWN])
        body = self.get(f"/internal/products/?ids={ids}").json()
        return {
            "results": {
                self.names[row["id"]]: {k: v for k, v in row.items() if k != "id"}
                for row in body["results"]
            },
            "missing": body["missing"],
        }


@pytest.fixture
def real(as_service, category) -> Side:
    client = as_service("internal")
    ids = {
        name: ProductFactory(
            category=category,
            title=f"The {name}",
            sku=f"SKU-{name}",
            price="3.50",
            stock_on_hand=available,
            is_active=active,
        ).id
        for name, (available, active) in SHELF.items()
    }
    return Side(
        lambda path, body: client.post(path, body, format="json"),
        lambda path: client.get(path),
        ids,
    )


@pytest.fixture
def fake(http_mock, user_service) -> Side:
    products = FakeProductService(http_mock, FAKE_URL, user_service)
    ids = {
        name: products.add(
            price="3.50",
            available=available,
            is_active=active,
            title=f"The {name}",
            sku=f"SKU-{name}",
        )
        for name, (available, active) in SHELF.items()
    }
    token = user_service.service_token("internal", client_id="shop-order")
    client = httpx.Client(base_url=FAKE_URL, headers={"Authorization": f"Bearer {token}"})
    return Side(lambda path, body: client.post(path, json=body), client.get, ids)


@pytest.mark.parametrize("steps", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_fake_product_service_answers_stock_calls_as_the_real_one(real, fake, steps):
    for step in steps:
        assert fake.step(*step) == real.step(*step), step
        assert fake.lookup() == real.lookup(), step


def test_the_fake_product_service_looks_products_up_as_the_real_one(real, fake):
    assert fake.lookup() == real.lookup()
