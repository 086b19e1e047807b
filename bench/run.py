#!/usr/bin/env python
"""`make bench`: loads service endpoints and a bare Django endpoint with the same tool, flags and
machine in one run, and prints req/s, p50/p99 latency and the ratio target/bare.

    python bench/run.py                  # every target
    python bench/run.py health           # some targets
    python bench/run.py --duration 20    # longer runs

Every process runs under gunicorn with the same flags (2 sync workers); the load comes from wrk
(Debian's package; `make bench` installs it). The database is the environment's (SQLite by default,
MariaDB with DB_ENGINE=mysql). Results also go to bench/results/<time>.json.
"""

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import httpx
from flow import run_flows

from shop_common.processes import ServiceProcess
from shop_common.testing.stack import Stack, free_port
from shop_common.topology import SERVICES, SERVICES_BY_NAME, Service

ROOT = Path(__file__).resolve().parent.parent
BARE = Service("bare", "bench/bare", 0, "", "the baseline: a JsonResponse of 20 items")


@dataclass(frozen=True)
class Target:
    name: str
    service: str
    path: str
    description: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    goal: float | None = None  # the smallest acceptable ratio to bare, where an issue sets one
    # Called with the running stack before the load; returns the target with what it needs (a token).
    prepare: Callable[["Target", Stack], "Target"] | None = None
    # Extra environment for the services under test; targets with different ones get their own stack.
    env: tuple[tuple[str, str], ...] = ()
    # Other services the target's service calls (the user service is always there).
    needs: tuple[str, ...] = ()


def with_fresh_access_token(target: Target, stack: Stack) -> Target:
    """Signs up a customer on the stack; the target's body carries their access token."""
    body = json.dumps({"token": stack.new_customer_token()})
    return replace(
        target, body=body, headers={**target.headers, "Content-Type": "application/json"}
    )


def with_five_line_cart(target: Target, stack: Stack) -> Target:
    """Logs in the demo customer, fills their cart with five products, and sends their token."""
    login = httpx.post(
        f"{stack.url('user')}/auth/login/",
        json={"email": "customer@shop.test", "password": "customer-demo-pass-1"},
    )
    login.raise_for_status()
    auth = {"Authorization": f"Bearer {login.json()['access']}"}
    products = httpx.get(f"{stack.url('product')}/products/", params={"in_stock": "true"}).json()[
        "results"
    ]
    for product in products[:5]:
        httpx.post(
            f"{stack.url('cart')}/api/cart/add/", json={"product_id": product["id"]}, headers=auth
        ).raise_for_status()
    return replace(target, headers={**target.headers, **auth})


TARGETS = {
    target.name: target
    for target in [
        Target("health", "product", "/health/", "product service GET /health/ (one SELECT 1)"),
        Target(
            "products",
            "product",
            "/products/",
            "product service GET /products/, 20 items, cached",
            goal=0.6,
        ),
        Target(
            "products-uncached",
            "product",
            "/products/",
            "product service GET /products/, 20 items, CATALOG_CACHE_TTL=0",
            env=(("CATALOG_CACHE_TTL", "0"),),
        ),
        Target(
            "cart",
            "cart",
            "/api/cart/",
            "cart service GET /api/cart/, 5 lines (auth cache warm + one product batch call)",
            needs=("product",),
            prepare=with_five_line_cart,
        ),
        Target(
            "validate",
            "user",
            "/auth/validate/",
            "user service POST /auth/validate/ (JWT check + one indexed query)",
            method="POST",
            goal=0.5,
            prepare=with_fresh_access_token,
        ),
    ]
}


@dataclass
class Measurement:
    name: str
    description: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    ratio: float | None = None
    goal: float | None = None


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _latency_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS_MS[unit]


def wrk_script(target: Target, directory: Path) -> Path | None:
    if target.method == "GET" and not target.headers and target.body is None:
        return None
    lines = [f'wrk.method = "{target.method}"']
    lines += [f'wrk.headers["{key}"] = "{value}"' for key, value in target.headers.items()]
    if target.body is not None:
        lines.append(f"wrk.body = {json.dumps(target.body)}")
    script = directory / f"{target.name}.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


def load(url: str, *, script: Path | None, duration: int, connections: int, threads: int) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    distribution = dict(
        re.findall(r"^\s+(50|99)%\s+([\d.]+(?:us|ms|s|m))\s*$", output, re.MULTILINE)
    )
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _latency_ms(distribution["50"]),
        "p99_ms": _latency_ms(distribution["99"]),
        "errors": (int(errors.group(1)) if errors else 0)
        + (sum(int(n) for n in socket_errors.groups()) if socket_errors else 0),
    }


def measure(
    name: str, description: str, url: str, target: Target | None, args, workdir: Path
) -> Measurement:
    script = wrk_script(target, workdir) if target else None
    load(
        url,
        script=script,
        duration=max(1, args.duration // 5),
        connections=args.connections,
        threads=2,
    )
    result = load(
        url, script=script, duration=args.duration, connections=args.connections, threads=2
    )
    return Measurement(name=name, description=description, **result)


FLOW = "checkout-flow"


def measure_flow(env: dict[str, str], workdir: Path, args: argparse.Namespace) -> Measurement:
    """All six services and the Stripe sandbox; customers paying for orders, start to PAID."""
    stack = Stack(
        ROOT, workdir / "stack-flow", SERVICES, env, schema_prefix="bench_", demo_data=True
    )
    stack.workdir.mkdir()
    try:
        stack.start()
        result = run_flows(stack, customers=args.customers, flows_each=args.flows)
    finally:
        stack.stop()
    return Measurement(
        name=FLOW,
        description=(
            f"flows/s: add, checkout, pay, webhook, PAID; {args.customers} customers x {args.flows}; "
            f"p50/p99 columns are p50/p95 of one flow"
        ),
        requests_per_second=result.flows_per_second,
        p50_ms=result.p50_ms,
        p99_ms=result.p95_ms,
        errors=result.failures,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmarks against a bare Django endpoint.")
    parser.add_argument(
        "targets", nargs="*", help=f"some of: {', '.join([*TARGETS, FLOW])} (default: all)"
    )
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds of measured load per endpoint"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--customers", type=int, default=8, help="concurrent customers in checkout-flow"
    )
    parser.add_argument("--flows", type=int, default=5, help="checkout flows per customer")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit(
            "wrk is not installed: run `make bench` (it installs Debian's wrk) or apt-get install wrk"
        )
    requested = args.targets or [*TARGETS, FLOW]
    with_flow = FLOW in requested
    names = [name for name in requested if name != FLOW]
    unknown = set(names) - set(TARGETS)
    if unknown:
        sys.exit(
            f"unknown targets: {', '.join(sorted(unknown))}; known: {', '.join([*TARGETS, FLOW])}"
        )
    targets = [TARGETS[name] for name in names]

    workdir = Path(tempfile.mkdtemp(prefix="shop-bench-"))
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    bare = ServiceProcess(BARE, ROOT / BARE.folder, free_port(), env, ready_path="/products/")
    measurements = []
    try:
        bare.start()
        bare.wait_until_healthy()
        baseline = measure("bare", BARE.owns, f"{bare.url}/products/", None, args, workdir)
        measurements.append(baseline)
        for extra_env, group in itertools.groupby(targets, key=lambda target: target.env):
            group = list(group)
            names = ["user", *(name for t in group for name in (*t.needs, t.service))]
            services = tuple(SERVICES_BY_NAME[name] for name in dict.fromkeys(names))
            stack = Stack(
                ROOT,
                workdir / f"stack-{len(measurements)}",
                services,
                {**env, **dict(extra_env)},
                schema_prefix="bench_",
                demo_data=True,
            )
            stack.workdir.mkdir()
            try:
                stack.start()
                for target in group:
                    if target.prepare:
                        target = target.prepare(target, stack)
                    url = f"{stack.url(target.service)}{target.path}"
                    if httpx.request(
                        target.method, url, headers=target.headers, content=target.body
                    ).is_error:
                        sys.exit(f"{target.name}: {url} does not answer 2xx; nothing to measure")
                    result = measure(target.name, target.description, url, target, args, workdir)
                    result.ratio = result.requests_per_second / baseline.requests_per_second
                    result.goal = target.goal
                    measurements.append(result)
            finally:
                stack.stop()
        if with_flow:
            flow = measure_flow(env, workdir, args)
            flow.ratio = flow.requests_per_second / baseline.requests_per_second
            measurements.append(flow)
    finally:
        bare.stop()

    engine = env.get("DB_ENGINE", "sqlite")
    print(
        f"\nwrk, 2 threads, {args.connections} connections, {args.duration} s each; "
        f"gunicorn 2 sync workers everywhere; database: {engine}; {os.cpu_count()} cores\n"
    )
    print(
        f"{'endpoint':<17} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'ratio':>6} {'goal':>6}  what"
    )
    for m in measurements:
        ratio = (
            "1.00" if m.ratio is None else f"{m.ratio:.2f}" if m.ratio >= 0.1 else f"{m.ratio:.4f}"
        )
        goal = f">={m.goal:.2f}" if m.goal else ""
        print(
            f"{m.name:<17} {m.requests_per_second:>9.1f} {m.p50_ms:>8.2f} {m.p99_ms:>8.2f} "
            f"{m.errors:>6} {ratio:>6} {goal:>6}  {m.description}"
        )
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (results / f"{stamp}.json").write_text(
        json.dumps(
            {"database": engine, "measurements": [asdict(m) for m in measurements]}, indent=2
        )
    )
    failing = [m.name for m in measurements if m.errors or (m.goal and m.ratio < m.goal)]
    if failing:
        print(f"\nbelow goal or with errors: {', '.join(failing)}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
