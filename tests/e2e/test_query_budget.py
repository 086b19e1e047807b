"""SQL statements for one whole checkout, add to cart to PAID, added up over all six services.

The session's stack runs with COUNT_SQL_QUERIES (tests/e2e/conftest.py): every access line carries
``db_queries``, the statements its request ran on its service's database, and ``db_begins``, the
BEGINs among them (a new connection's setup statements are not counted). The customer's requests
carry a request id of the test's own, which every service passes on to the services it calls; the
provider's webhook starts a chain of its own: the sandbox names the event it delivered, and the
payment service's line applying that event carries the chain's request id. A service fetching its
own token (``/o/token/``, once per worker and token lifetime) is not part of a checkout and is left
out.

Three assertions (docs/development.md, "Counting SQL statements"):

- ``CEILING``, everything this stack counts: the regression guard. Lower it as statements go,
  never raise it without saying why there.
- ``GOAL``, issue 14's 40, on the statements a checkout runs wherever it runs: without the auth
  share (the user service's validations and introspections, which a Redis-backed deployment, as
  docker-compose and Kubernetes run it, answers from the shared cache: a validation runs no SQL
  there, an introspection runs once per service token and cache lifetime, not per checkout) and
  without SQLite's BEGINs (MariaDB starts a transaction with a driver call the counter never sees).
- ``HOPS``, the shop requests of a warm checkout's chain besides the auth share (the cart service
  has the product's facts from an earlier add): a new call between services fails it.

``LOG_SQL_STATEMENTS=True`` in the environment lists each request's statements as well.
"""

import json
import uuid

import httpx

from shop_common.testing.data import ADDRESS
from shop_common.testing.waiting import eventually
from shop_common.topology import SERVICES
from tests.e2e.helpers import bearer

# What the checkout runs on this stack: 51 in three runs on SQLite (41 on MariaDB), 48 of them
# outside the auth share. The auth share depends on which worker answers: with two workers a
# service validates the customer's token, or introspects a calling service's, at most once per
# worker: at most 5 validations (integration 2, cart 2, order 1; 1 statement each) and 4
# introspections (the order service's token at the product service twice and at the payment
# service once, the payment service's at the order service once; 2 statements each), 13 in all
# against the 3 measured. 48 + 13 = 61, and 3 to spare; a regression past it fails.
CEILING = 64
# Issue 14's target, on the statements every deployment runs (the module's docstring).
GOAL = 40
# Shop requests in the chain besides the auth share: add to cart 2 (integration, cart: the cart
# has the product's facts from an earlier add), checkout 6 (integration; cart begin; order, which
# reserves and prices at the product service and starts the payment at the payment service; cart
# complete), webhook 3 (payment, order, product commit). The customer's order poll and the
# browser's success page are not in the chain (2 more), and a warm checkout validates the
# customer's token about once (docs/development.md, "Benchmarks").
HOPS = 11
# The auth share: answered from Redis's shared cache where production runs (docs/auth.md).
AUTH_PATHS = {("user", "/auth/validate/"), ("user", "/o/introspect/")}


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


def asked_the_catalog_on_add(stack, chain: str) -> bool:
    """Whether the cart asked the product service for the product's facts in ``chain``'s add. Read
    once the product service's reservation line is there: it answered the lookup before it."""
    wait_for(
        lambda: any(
            line["request_id"] == chain and line["path"] == "/internal/stock/reserve/"
            for line in log_lines(stack)
        )
    )
    return any(
        line["request_id"] == chain and line["path"] == "/internal/products/"
        for line in log_lines(stack)
    )


def test_one_whole_checkout_stays_under_its_sql_ceiling_across_all_services(stack, new_product):
    product = new_product(price="12.00", quantity=10)
    # Counted: the first warm checkout whose payment starts. A worker's first call to another
    # service also gets its own service token (a client secret hashed, a second on a loaded
    # machine), and on a fresh stack (this file alone) that can run a checkout over its 5 s budget;
    # each worker does it once, so a later checkout goes through, as a customer's would. Warm: each
    # cart worker keeps the facts of the products added on it (local memory here, Redis where
    # production runs), so after the first add on each of the two workers no add asks the catalog.
    # A cart that asked every time would be counted here with its extra request, over HOPS.
    for _ in range(8):
        token = stack.new_customer_token()
        chain = f"query-budget-{uuid.uuid4().hex[:12]}"
        placed = checkout(stack, token, product["id"], chain)
        if (
            placed.status_code == 201
            and placed.json()["payment"]
            and not asked_the_catalog_on_add(stack, chain)
        ):
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
    lines = sorted(chain_lines(), key=lambda line: line["time"])
    lines = [line for line in lines if line["path"] != "/o/token/"]
    total = sum(line["db_queries"] for line in lines)
    auth = sum(
        line["db_queries"] for line in lines if (line["service"], line["path"]) in AUTH_PATHS
    )
    begins = sum(
        line["db_begins"] for line in lines if (line["service"], line["path"]) not in AUTH_PATHS
    )
    work = total - auth - begins
    per_service: dict[str, int] = {}
    for line in lines:
        per_service[line["service"]] = per_service.get(line["service"], 0) + line["db_queries"]
    report = (
        f"{total} SQL statements for one checkout: {per_service}; auth {auth}, BEGIN {begins}, "
        f"the rest {work}\n"
        + "\n".join(
            f"  {line['service']:<11} {line['method']:<4} {line['path']:<40} {line['db_queries']:>2}"
            + "".join(
                f"\n      {sql[:160]}" for sql in line.get("db_statements", "").split("\n") if sql
            )
            for line in lines
        )
    )
    hops = [line for line in lines if (line["service"], line["path"]) not in AUTH_PATHS]
    report += f"\n{len(hops)} shop requests besides the auth share, {len(lines) - len(hops)} in it"
    print(report)
    assert total <= CEILING, report
    assert work <= GOAL, report
    assert len(hops) <= HOPS, report
