"""The whole checkout flow as customers do it, for `make bench`: add to cart → checkout (place +
initiate) → pay on the sandbox's hosted page → webhook → order PAID. N customers at once."""

import os
import statistics
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from shop import Shop

from shop_common.databases import server_connection
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
    server_cpu_ms_by_part: dict[str, float] = field(default_factory=dict)
    # Order reads that came before the webhook had made the order PAID (polled every 50 ms).
    polls_per_flow: float = 0.0
    # With MariaDB and Redis: commands each server ran per flow (server-wide counters, so the
    # machine should be otherwise quiet): the round trips the MariaDB figures are made of.
    round_trips_per_flow: dict[str, float] = field(default_factory=dict)

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


def server_commands(shop: Shop) -> dict[str, int]:
    """Commands run so far by Redis and MariaDB (nothing under SQLite)."""
    if shop.engine != "mysql":
        return {}
    import redis

    connection = server_connection(**shop.mysql, purpose="counting statements")
    try:
        cursor = connection.cursor()
        cursor.execute("SHOW GLOBAL STATUS LIKE 'Questions'")
        statements = int(cursor.fetchone()[1])
    finally:
        connection.close()
    commands = redis.Redis.from_url(shop.redis_url).info("stats")["total_commands_processed"]
    return {"Redis commands": commands, "MariaDB statements": statements}


def cpu_seconds(root: int, ports: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds so far of ``root`` and every live process below it (honcho, the
    servers' main processes and workers, sandboxes, periodic jobs) and of the database and Redis servers,
    read from /proc (a process that ended meanwhile is not counted), by part: the service or
    sandbox whose port is in the process's command line (workers keep their main process's),
    the server's name, or "other" (honcho, periodic jobs)."""
    tick = os.sysconf("SC_CLK_TCK")
    processes: dict[int, tuple[int, str, int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        # After the name: state, ppid, ..., utime (12th) and stime (13th).
        processes[int(stat.parent.name)] = (
            int(fields[1]),
            text[text.index("(") + 1 : text.rindex(")")],
            int(fields[11]) + int(fields[12]),
        )
    counted = {pid for pid, (_, name, _) in processes.items() if name in SERVERS}
    below = {root}
    while below:
        counted |= below
        below = {pid for pid, (ppid, _, _) in processes.items() if ppid in below} - counted
    parts: dict[str, float] = {}
    for pid in counted & processes.keys():
        _, name, ticks = processes[pid]
        part = name if name in SERVERS else "other"
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            command = ""
        for service, port in ports.items():
            padded = f"{command} "
            if f":{port} " in padded or f"={port} " in padded or f"--port {port} " in padded:
                part = service
        parts[part] = parts.get(part, 0.0) + ticks / tick
    return parts


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


POLLS: list[int] = []  # one item per status read that did not yet say PAID (list.append is atomic)


def _one_flow(client: httpx.Client, stack: Shop, token: str, product_id: int) -> float:
    """One flow on the customer's own keep-alive client (a new httpx client per request would
    build an SSL context each time and spend a core of this 2-core machine in the bench itself)."""
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    shop = stack.url("integration")
    client.post(
        f"{shop}/cart/add/", json={"product_id": product_id, "quantity": 1}, headers=headers
    ).raise_for_status()
    answer = client.post(f"{shop}/checkout/", json={"shipping_address": ADDRESS}, headers=headers)
    answer.raise_for_status()
    body = answer.json()
    client.post(f"{body['payment']['checkout_url']}/pay")
    order_url = f"{stack.url('order')}/orders/{body['order']['id']}/"
    deadline = time.monotonic() + 60
    while client.get(order_url, headers=headers).json()["status"] != "PAID":
        POLLS.append(1)
        if time.monotonic() > deadline:
            raise TimeoutError("the order was not paid within 60 s")
        time.sleep(0.05)
    return (time.perf_counter() - started) * 1000


def run_flows(
    stack: Shop, *, customers: int, flows_each: int, on_start: Callable[[], None] | None = None
) -> FlowResult:
    """``on_start``: called once everything is warm, right before the measured flows (the
    profiler starts there)."""
    (product_id,) = stocked_products(stack, ["9.99"], name="Bench", quantity=100_000)
    tokens = [stack.new_customer_token() for _ in range(customers)]
    # Warm the caches, connections and the services' own tokens (a worker's first call hashes its
    # client secret at the user service, which can run a checkout over its budget).
    clients = {token: httpx.Client(timeout=30) for token in tokens}
    for token in tokens:
        try:
            _one_flow(clients[token], stack, token, product_id)
        except (httpx.HTTPError, TimeoutError, KeyError, TypeError):
            continue

    def customer_run(token: str) -> list[float | None]:
        latencies: list[float | None] = []
        for _ in range(flows_each):
            try:
                latencies.append(_one_flow(clients[token], stack, token, product_id))
            except (httpx.HTTPError, TimeoutError, KeyError, TypeError):  # TypeError: no payment
                latencies.append(None)
        return latencies

    POLLS.clear()
    if on_start:
        on_start()
    root = stack.process.pid if stack.process else os.getpid()
    commands_before = server_commands(stack)
    server_before, client_before = cpu_seconds(root, stack.ports), time.process_time()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=customers) as pool:
        results = [latency for run in pool.map(customer_run, tokens) for latency in run]
    seconds = time.perf_counter() - started
    done = sorted(latency for latency in results if latency is not None)
    server_after, client_cpu = cpu_seconds(root, stack.ports), time.process_time() - client_before
    commands = {
        name: (count - commands_before[name]) / max(len(done), 1)
        for name, count in server_commands(stack).items()
    }
    per_flow = {
        part: (seconds - server_before.get(part, 0.0)) * 1000 / max(len(done), 1)
        for part, seconds in sorted(server_after.items())
    }
    for client in clients.values():
        client.close()
    quantiles = statistics.quantiles(done, n=100) if len(done) > 1 else [*done, 0.0][:1] * 99
    return FlowResult(
        flows=len(done),
        seconds=seconds,
        p50_ms=quantiles[49],
        p95_ms=quantiles[94],
        failures=len(results) - len(done),
        server_cpu_ms=sum(per_flow.values()),
        client_cpu_ms=client_cpu * 1000 / max(len(done), 1),
        server_cpu_ms_by_part=per_flow,
        polls_per_flow=len(POLLS) / max(len(done), 1),
        round_trips_per_flow=commands,
    )
