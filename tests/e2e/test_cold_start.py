"""A worker's first call to another service does not wait for its service token: every server
worker fetches its tokens as it starts (shop_common.server), in the
background, while the user service may still be starting beside it."""

import httpx
import pytest

from shop_common.topology import SERVICES_BY_NAME
from tests.e2e.helpers import bearer, running_stack

WORKERS = 2
SERVICES = [SERVICES_BY_NAME[name] for name in ("user", "product", "cart")]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    with running_stack(
        tmp_path_factory,
        "coldstart",
        services=SERVICES,
        workers=WORKERS,
    ) as shop:
        yield shop


def log(shop, service: str) -> str:
    return (shop.workdir / f"{service}.log").read_text(errors="replace")


def token_fetches(shop) -> float:
    return shop.answered("user", "accounts.oauth.TokenView")


def test_each_worker_holds_its_service_tokens_before_its_first_request(shop):
    # One token per scope the topology names, per worker; the stack waited for the workers to say
    # so, and the user service counts an answer before it leaves.
    expected = WORKERS * sum(len(service.token_scopes) for service in SERVICES)

    assert token_fetches(shop) == expected
    for service in SERVICES[1:]:
        assert log(shop, service.name).count("Service tokens fetched at worker start") == WORKERS

    # The cart's product lookups (internal) and the product service's introspections of the
    # cart's token (introspection), on whichever workers answer: no token is fetched again.
    customer = bearer(shop.new_customer_token())
    product_id = httpx.get(f"{shop.url('product')}/products/").json()["results"][0]["id"]
    for _ in range(2 * WORKERS):
        added = httpx.post(
            f"{shop.url('cart')}/api/cart/add/",
            json={"product_id": product_id},
            headers=customer,
            timeout=30,
        )
        assert added.status_code == 200, added.text
    assert token_fetches(shop) == expected
