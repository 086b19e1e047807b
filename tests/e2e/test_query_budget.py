"""SQL statements for one whole checkout, add to cart to PAID, added up over all six services.

The session's stack runs with COUNT_SQL_QUERIES (tests/e2e/conftest.py): every access line carries
``db_queries``, the statements its request ran on its service's database. The customer's requests
carry a request id of the test's own, which every service passes on to the services it calls; the
provider's webhook starts a chain of its own: the sandbox names the event it delivered, and the
payment service's line applying that event carries the chain's request id.
Issue 14's goal is 40 (Saleor's checkoutComplete alone runs about 230); the shop is not there yet
(76-85, docs/decisions.md "Performance"), so this test is the regression guard at ``CEILING``:
lower it as statements go, never raise it without saying why there.
A service fetching its own token (``/o/token/``, once per worker and token lifetime) is not part of
a checkout and is left out.
"""

import json
import uuid

import httpx

from shop_common.testing.data import ADDRESS
from shop_common.topology import SERVICES
from tests.e2e.helpers import bearer, eventually

# What the checkout runs today (about 85: docs/decisions.md, "Performance"), with room for the
# validations and introspections a worker whose cache is cold adds: a regression past it fails.
CEILING = 110


def log_lines(stack) -> list[dict]:
    lines = []
    for service in SERVICES:
        for text in (
            (stack.workdir / f"{service.name}.log").read_text(errors="replace").splitlines()
        ):
            if text.startswith("{"):
                lines.append(json.loads(text))
    return lines


def delivered_events(stack) -> set[str]:
    answer = httpx.get(f"{stack.url('stripe-sandbox')}/_sandbox/requests").json()
    return {delivery["event_id"] for delivery in answer["deliveries"]}


def wait_for(find, *, timeout: float = 20):
    """``find()``'s answer once it is truthy: the services write their lines from a thread of
    their own, a moment after answering."""
    return eventually(find, bool, timeout=timeout)


def checkout(stack, token: str, product_id: int, request_id: str) -> httpx.Response:
    headers = {**bearer(token), "X-Request-ID": request_id}
    with httpx.Client(base_url=stack.url("integration"), headers=headers, timeout=30) as shop:
        added = shop.post("/cart/add/", json={"product_id": product_id})
        if added.status_code != 200:
            return added
        return shop.post("/checkout/", json={"shipping_address": ADDRESS})


def test_one_whole_checkout_stays_under_its_sql_ceiling_across_all_services(stack, new_product):
    product = new_product(price="12.00", quantity=10)
    # Counted: the first checkout whose payment starts. A worker's first call to another service
    # also gets its own service token (a client secret hashed, a second on a loaded machine), and
    # on a fresh stack (this file alone) that can run a checkout over its 5 s budget; each worker
    # does it once, so a later checkout goes through, as a customer's would.
    for _ in range(6):
        token = stack.new_customer_token()
        chain = f"query-budget-{uuid.uuid4().hex[:12]}"
        placed = checkout(stack, token, product["id"], chain)
        if placed.status_code == 201 and placed.json()["payment"]:
            break
    assert placed.status_code == 201, placed.text
    assert placed.json()["payment"], placed.text
    order_id = placed.json()["order"]["id"]
    before = delivered_events(stack)
    assert httpx.post(f"{placed.json()['payment']['checkout_url']}/pay").status_code == 303
    poll = {**bearer(token), "X-Request-ID": f"poll-{chain}"}  # waiting is not the checkout
    paid = wait_for(
        lambda: (
            httpx.get(f"{stack.url('order')}/orders/{order_id}/", headers=poll).json()["status"]
            == "PAID"
        )
    )
    assert paid, "the order was not paid within 20 s"
    (event,) = delivered_events(stack) - before
    webhook = wait_for(
        lambda: [
            line["request_id"]
            for line in log_lines(stack)
            if line["logger"] == "shop.payments" and event in line["message"]
        ]
    )
    assert webhook, f"no line of the payment service applies {event}"

    def chain_lines() -> list[dict]:
        return [
            line
            for line in log_lines(stack)
            if line["logger"] == "shop.access" and line["request_id"] in {chain, *webhook}
        ]

    # The integration service answers the customer's two calls last, the payment service the
    # webhook: with those three lines there, every line of the checkout is.
    wait_for(
        lambda: (
            {(line["service"], line["path"]) for line in chain_lines()}
            >= {
                ("integration", "/cart/add/"),
                ("integration", "/checkout/"),
                ("payment", "/webhook/stripe/"),
            }
        )
    )
    per_service: dict[str, int] = {}
    for line in chain_lines():
        if line["path"] != "/o/token/":
            per_service[line["service"]] = per_service.get(line["service"], 0) + line["db_queries"]
    total = sum(per_service.values())

    print(f"{total} SQL statements for one checkout: {per_service}")
    assert total <= CEILING, f"{total} SQL statements for one checkout: {per_service}"
