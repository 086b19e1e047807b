"""The whole checkout flow as customers do it, for `make bench`: add to cart → checkout (place +
initiate) → pay on the sandbox's hosted page → webhook → order PAID. N customers at once."""

import os
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from shop import Shop

from shop_common.roles import STAFF
from shop_common.testing.data import ADDRESS
from shop_common.testing.stack import ServiceUrls, demo_token


@dataclass
class FlowResult:
    flows: int
    seconds: float
    p50_ms: float
    p95_ms: float
    failures: int
    # CPU time spent per completed flow by the shop's processes (everything `make run` started,
    # sandboxes included, plus the database and Redis servers) and by this client.
    server_cpu_ms: float = 0.0
    client_cpu_ms: float = 0.0

    @property
    def flows_per_second(self) -> float:
        return self.flows / self.seconds

    @property
    def cpu_ceiling(self) -> float:
        """Flows per second this machine could do at most if its cores did nothing but this work
        (server and client CPU per flow): the bound no amount of waiting less can lift."""
        per_flow = self.server_cpu_ms + self.client_cpu_ms
        return (os.cpu_count() or 1) * 1000 / per_flow if per_flow else 0.0


SERVERS = ("mariadbd", "mysqld", "redis-server")


def cpu_seconds(process_group: int) -> float:
    """User + system CPU of every live process in ``process_group`` and of the database and Redis
    servers (read from /proc; a process that ended meanwhile is not counted)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        # After the name: state, ppid, pgrp, ... utime (12th) and stime (13th).
        if int(fields[2]) == process_group or name in SERVERS:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def stocked_products(
    shop: ServiceUrls, prices: list[str], *, name: str, quantity: int
) -> list[int]:
    """One product per price, made by the demo staff user in the first category, each with
    ``quantity`` in stock (the benchmark and the soak buy them)."""
    staff = httpx.Client(
        base_url=shop.url("product"),
        headers={"Authorization": f"Bearer {demo_token(shop, STAFF)}"},
        timeout=30,
    )
    category = staff.get("/category/").json()["results"][0]["id"]
    ids = []
    for n, price in enumerate(prices):
        created = staff.post(
            "/products/",
            json={
                "title": f"{name} item {n}",
                "sku": f"{name.upper()}-{uuid.uuid4().hex[:8]}",
                "category": category,
                "price": price,
                "quantity": quantity,
            },
        )
        created.raise_for_status()
        ids.append(created.json()["id"])
    return ids


def _one_flow(stack: Shop, token: str, product_id: int) -> float:
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.url("integration"), headers=headers, timeout=30) as shop:
        shop.post("/cart/add/", json={"product_id": product_id, "quantity": 1}).raise_for_status()
        answer = shop.post("/checkout/", json={"shipping_address": ADDRESS})
        answer.raise_for_status()
        body = answer.json()
    httpx.post(f"{body['payment']['checkout_url']}/pay", timeout=30)
    order_url = f"{stack.url('order')}/orders/{body['order']['id']}/"
    deadline = time.monotonic() + 60
    while httpx.get(order_url, headers=headers, timeout=30).json()["status"] != "PAID":
        if time.monotonic() > deadline:
            raise TimeoutError("the order was not paid within 60 s")
        time.sleep(0.05)
    return (time.perf_counter() - started) * 1000


def run_flows(stack: Shop, *, customers: int, flows_each: int) -> FlowResult:
    (product_id,) = stocked_products(stack, ["9.99"], name="Bench", quantity=100_000)
    tokens = [stack.new_customer_token() for _ in range(customers)]
    # Warm the caches, connections and the services' own tokens (a worker's first call hashes its
    # client secret at the user service, which can run a checkout over its budget).
    for token in tokens:
        try:
            _one_flow(stack, token, product_id)
        except (httpx.HTTPError, TimeoutError, KeyError, TypeError):
            continue

    def customer_run(token: str) -> list[float | None]:
        latencies: list[float | None] = []
        for _ in range(flows_each):
            try:
                latencies.append(_one_flow(stack, token, product_id))
            except (httpx.HTTPError, TimeoutError, KeyError, TypeError):  # TypeError: no payment
                latencies.append(None)
        return latencies

    group = os.getpgid(stack.process.pid) if stack.process else 0
    server_before, client_before = cpu_seconds(group), time.process_time()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=customers) as pool:
        results = [latency for run in pool.map(customer_run, tokens) for latency in run]
    seconds = time.perf_counter() - started
    server_cpu, client_cpu = cpu_seconds(group) - server_before, time.process_time() - client_before
    done = sorted(latency for latency in results if latency is not None)
    quantiles = statistics.quantiles(done, n=100) if len(done) > 1 else [*done, 0.0][:1] * 99
    return FlowResult(
        flows=len(done),
        seconds=seconds,
        p50_ms=quantiles[49],
        p95_ms=quantiles[94],
        failures=len(results) - len(done),
        server_cpu_ms=server_cpu * 1000 / max(len(done), 1),
        client_cpu_ms=client_cpu * 1000 / max(len(done), 1),
    )
