#!/usr/bin/env python
"""`make bench`: the shop as `make run` starts it (bench/shop.py), its hot paths loaded one after
the other with wrk, each divided by a bare Django endpoint in the same run: under gunicorn gthread
with the services' workers and threads (the reference: what a user would otherwise deploy), and
under granian, the shop's server (how close the shop comes to the framework's own limit); then the
whole checkout flow with concurrent customers (bench/flow.py).

    python bench/run.py                      # every target; SQLite and local-memory caches
    python bench/run.py --db mysql           # MariaDB (DB_HOST...) and Redis (REDIS_URL, default
                                             # redis://127.0.0.1:6379/0)
    python bench/run.py products cart        # some targets
    python bench/run.py --profile products   # py-spy on the service's workers during the load
    python bench/run.py --server gunicorn    # the shop under gunicorn, as before granian

Any answer that is not a 2xx counts as an error. The table also goes to bench/results/latest.json
(and a copy named after the time), with the load average before and after each figure.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import httpx
from flow import run_flows
from round_trips import mariadb_select, redis_get
from shop import Shop

from shop_common.processes import GRANIAN, GUNICORN, SERVERS, ServiceProcess, threads_for
from shop_common.roles import CUSTOMER
from shop_common.testing.data import ADDRESS
from shop_common.testing.stack import demo_token, free_port
from shop_common.topology import Service

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
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
    goal: float | None = None  # the smallest acceptable ratio to bare (issue 22's table)
    # Called with the running shop before the load; returns the target with what it needs.
    prepare: Callable[["Target", Shop], "Target"] | None = None
    # A query string no request repeats: every request misses the response cache.
    unique_query: bool = False


def first_product(target: Target, shop: Shop) -> Target:
    products = httpx.get(f"{shop.url('product')}/products/", timeout=30).json()["results"]
    return replace(target, path=target.path.format(id=products[0]["id"]))


def with_fresh_access_token(target: Target, shop: Shop) -> Target:
    """A new customer's access token in the body, as every service sends it."""
    body = json.dumps({"token": shop.new_customer_token()})
    return replace(target, body=body, headers={"Content-Type": "application/json"})


def with_five_line_cart(target: Target, shop: Shop) -> Target:
    """The demo customer with five products in their cart."""
    auth = {"Authorization": f"Bearer {demo_token(shop, CUSTOMER)}"}
    products = httpx.get(
        f"{shop.url('product')}/products/", params={"in_stock": "true"}, timeout=30
    ).json()["results"]
    for product in products[:5]:
        httpx.post(
            f"{shop.url('cart')}/api/cart/add/",
            json={"product_id": product["id"]},
            headers=auth,
            timeout=30,
        ).raise_for_status()
    return replace(target, headers=auth)


def with_twenty_orders(target: Target, shop: Shop) -> Target:
    """A new customer who has placed 20 orders of two lines each."""
    auth = {"Authorization": f"Bearer {shop.new_customer_token()}"}
    products = httpx.get(
        f"{shop.url('product')}/products/", params={"in_stock": "true"}, timeout=30
    ).json()["results"]
    with httpx.Client(base_url=shop.url("order"), headers=auth, timeout=30) as orders:
        for _ in range(20):
            orders.post(
                "/orders/",
                json={
                    "items": [
                        {"product_id": products[0]["id"], "quantity": 1},
                        {"product_id": products[1]["id"], "quantity": 1},
                    ],
                    "shipping_address": ADDRESS,
                },
                headers={"Idempotency-Key": uuid.uuid4().hex},
            ).raise_for_status()
    return replace(target, headers=auth)


TARGETS = {
    target.name: target
    for target in [
        Target(
            "products",
            "product",
            "/products/",
            "GET /products/, 20 items, cached (access lines on, as make run)",
            goal=1.0,
        ),
        Target(
            "products-uncached",
            "product",
            "/products/",
            "GET /products/, 20 items, every request a cache miss",
            goal=0.4,
            unique_query=True,
        ),
        Target(
            "product",
            "product",
            "/products/{id}/",
            "GET /products/{id}/, cached",
            goal=1.0,
            prepare=first_product,
        ),
        Target(
            "validate",
            "user",
            "/auth/validate/",
            "POST /auth/validate/ (a live login token)",
            method="POST",
            goal=0.9,
            prepare=with_fresh_access_token,
        ),
        Target(
            "cart",
            "cart",
            "/api/cart/",
            "GET /api/cart/ with 5 lines, authenticated",
            goal=0.3,
            prepare=with_five_line_cart,
        ),
        Target(
            "orders-history",
            "order",
            "/orders/history/",
            "GET /orders/history/, a customer with 20 orders",
            goal=0.3,
            prepare=with_twenty_orders,
        ),
    ]
}
FLOW = "checkout-flow"
FLOW_GOAL_PER_SECOND = 30.0
FLOW_GOAL_P95_MS = 500.0


@dataclass
class Measurement:
    name: str
    description: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    # The bare endpoint under gunicorn (the reference) and under granian, in turns with this one.
    bare_requests_per_second: float | None = None
    bare_granian_requests_per_second: float | None = None
    ratio: float | None = None
    ratio_to_granian: float | None = None
    goal: str = ""
    met: bool | None = None
    load_before: str = ""
    load_after: str = ""


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# Every target, the bare one included, runs this script: the same per-request work in wrk, and
# every answer outside 200..299 counted (wrk's own count lets 3xx pass).
WRK_SCRIPT = """
wrk.method = {method}
{headers}
{body}
local unique = {unique}
local counter = 0
local threads = {{}}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  errors = 0
end

function request()
  if unique then
    counter = counter + 1
    return wrk.format(nil, wrk.path .. "?nocache=" .. id .. "-" .. counter .. "-" .. {salt})
  end
  return wrk.format()
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local errors = 0
  for _, thread in ipairs(threads) do
    errors = errors + thread:get("errors")
  end
  local socket = summary.errors
  io.write(string.format(
    "RESULT %d %d %.3f %.3f %.6f\\n",
    summary.requests, errors + socket.connect + socket.read + socket.write + socket.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""


def wrk_script(target: Target | None, directory: Path) -> Path:
    method = target.method if target else "GET"
    headers = target.headers if target else {}
    body = target.body if target else None
    script = directory / f"{target.name if target else 'bare'}.lua"
    script.write_text(
        WRK_SCRIPT.format(
            method=json.dumps(method),
            headers="\n".join(
                f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()
            ),
            body=f"wrk.body = {json.dumps(body)}" if body is not None else "",
            unique="true" if target and target.unique_query else "false",
            salt=json.dumps(uuid.uuid4().hex[:8]),
        )
    )
    return script


def wrk(url: str, script: Path, *, duration: float, connections: int) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    requests, errors, p50, p99, seconds = line.split()[1:]
    return {
        "requests": int(requests),
        "errors": int(errors),
        "p50_ms": float(p50),
        "p99_ms": float(p99),
        "requests_per_second": int(requests) / float(seconds),
    }


ROUNDS = 3


def measure(
    name: str,
    description: str,
    url: str,
    script: Path,
    args,
    bare: tuple[str, Path],
    bare_granian: tuple[str, Path],
) -> Measurement:
    """The target and the bare endpoints in turns, ``ROUNDS`` times ``duration / ROUNDS`` seconds
    each: on a shared machine the load moves within seconds, and a ratio of two figures taken
    minutes apart says more about the neighbours than about the code."""
    slice_seconds = max(1, args.duration // ROUNDS)
    wrk(url, script, duration=slice_seconds, connections=args.connections)  # warm-up
    before = load_average()
    ours, reference, granian = [], [], []
    for _ in range(ROUNDS):
        reference.append(wrk(*bare, duration=slice_seconds, connections=args.connections))
        granian.append(wrk(*bare_granian, duration=slice_seconds, connections=args.connections))
        ours.append(wrk(url, script, duration=slice_seconds, connections=args.connections))
    after = load_average()
    result = Measurement(
        name=name, description=description, load_before=before, load_after=after, **_combined(ours)
    )
    result.bare_requests_per_second = _combined(reference)["requests_per_second"]
    result.bare_granian_requests_per_second = _combined(granian)["requests_per_second"]
    result.ratio = result.requests_per_second / result.bare_requests_per_second
    result.ratio_to_granian = result.requests_per_second / result.bare_granian_requests_per_second
    return result


def _combined(slices: list[dict]) -> dict:
    """Rounds added up: requests and errors summed, rates averaged, latencies the worst round's."""
    return {
        "requests": sum(s["requests"] for s in slices),
        "errors": sum(s["errors"] for s in slices),
        "requests_per_second": sum(s["requests_per_second"] for s in slices) / len(slices),
        "p50_ms": max(s["p50_ms"] for s in slices),
        "p99_ms": max(s["p99_ms"] for s in slices),
    }


def profile(
    shop: Shop, service: str, seconds: int, directory: Path, *, gil: bool = False
) -> tuple[subprocess.Popen, Path] | None:
    """py-spy on every worker of ``service`` while the load runs; returns the collapsed stacks.
    ``gil``: only the samples of the thread holding the GIL, i.e. where the CPU goes; without it
    a thread waiting for the GIL or for a socket counts as much as one working, which on a busy
    machine makes a read look spent where it only waits (docs/development.md, "Benchmarks")."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy is not installed (pip install py-spy): no profile", file=sys.stderr)
        return None
    output = directory / f"{service}-{time.strftime('%H%M%S')}.txt"
    master = shop.server_pids(service)[0]
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(master),
            "--subprocesses",
            "--duration",
            str(seconds),
            "--format",
            "raw",
            "--output",
            str(output),
            "--nonblocking",
            *(["--gil"] if gil else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ), output


# Frames every sample has (the process, the server's loop): they say nothing about the path.
_SERVER_FRAMES = ("gunicorn/", "granian/")
_FRAME_NOISE = ("process ", *_SERVER_FRAMES, "<frozen runpy>", "<module>")


def top_frames(collapsed: Path, limit: int = 20) -> dict[str, list[tuple[str, float]]]:
    """From py-spy's raw output: the frames on the stack of the most samples (inclusive), and the
    frames most samples were in (self), as shares of all samples."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        samples += int(count)
        own[frames[-1]] = own.get(frames[-1], 0) + int(count)
        for frame in set(frames):
            if not frame.startswith(_FRAME_NOISE) and not any(
                server in frame for server in _SERVER_FRAMES
            ):
                inclusive[frame] = inclusive.get(frame, 0) + int(count)

    def ranked(counts: dict[str, int], n: int) -> list[tuple[str, float]]:
        best = sorted(counts.items(), key=lambda item: -item[1])[:n]
        return [(frame, round(count / samples, 4)) for frame, count in best]

    return {"inclusive": ranked(inclusive, limit), "self": ranked(own, limit // 2)}


def bare_process(workdir: Path, server: str) -> ServiceProcess:
    """Bare Django under ``server`` with the command the services get (scripts/serve.py): their
    workers, and the threads of the user, product, cart and order services."""
    return ServiceProcess(
        BARE,
        ROOT / BARE.folder,
        free_port(),
        {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        workers=int(os.environ.get("WEB_CONCURRENCY", "2")),
        threads=threads_for("product"),
        ready_path="/products/",
        log_path=workdir / f"bare-{server}.log",
        server=server,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="The shop's hot paths against bare Django.")
    parser.add_argument(
        "targets", nargs="*", help=f"some of: {', '.join([*TARGETS, FLOW])} (default: all)"
    )
    parser.add_argument(
        "--db",
        choices=["sqlite", "mysql"],
        default=os.environ.get("DB_ENGINE", "sqlite"),
        help="mysql: MariaDB and Redis (REDIS_URL, default redis://127.0.0.1:6379/0)",
    )
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default=GRANIAN,
        help="the server the shop runs under (gunicorn: as before granian, to compare)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--customers", type=int, default=8, help="at once in checkout-flow")
    parser.add_argument("--flows", type=int, default=10, help="checkout flows per customer")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy each target's service during its load"
    )
    parser.add_argument(
        "--gil",
        action="store_true",
        help="with --profile: only samples holding the GIL (where the CPU goes)",
    )
    parser.add_argument(
        "--flow-profile",
        default="order",
        help="with --profile: the service py-spy follows during checkout-flow (default: order, "
        "the largest CPU share per flow)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `make bench` installs Debian's wrk (apt-get install wrk)")
    names = args.targets or [*TARGETS, FLOW]
    unknown = set(names) - {*TARGETS, FLOW}
    if unknown:
        sys.exit(f"unknown targets: {', '.join(sorted(unknown))}; known: {', '.join(TARGETS)}")
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    workdir = Path(tempfile.mkdtemp(prefix="shop-bench-"))
    shop = Shop(
        workdir,
        engine=args.db,
        redis_url=redis_url if args.db == "mysql" else "",
        server=args.server,
    )
    bare = bare_process(workdir, GUNICORN)
    bare_granian = bare_process(workdir, GRANIAN)
    measurements: list[Measurement] = []
    profiles: dict[str, dict[str, list[tuple[str, float]]]] = {}
    started = time.monotonic()
    try:
        for process in (bare, bare_granian):
            process.start()
            process.wait_until_healthy()
        shop.start()
        baseline = (f"{bare.url}/products/", wrk_script(None, workdir))
        baseline_granian = (f"{bare_granian.url}/products/", baseline[1])
        for name in names:
            if name == FLOW:
                continue
            target = TARGETS[name]
            if target.prepare:
                target = target.prepare(target, shop)
            url = f"{shop.url(target.service)}{target.path}"
            check = httpx.request(
                target.method, url, headers=target.headers, content=target.body, timeout=30
            )
            if not check.is_success:
                sys.exit(f"{name}: {url} answers {check.status_code}; nothing to measure")
            spy = (
                profile(shop, target.service, args.duration, workdir, gil=args.gil)
                if args.profile
                else None
            )
            script = wrk_script(target, workdir)
            result = measure(
                name, target.description, url, script, args, baseline, baseline_granian
            )
            result.goal = f">={target.goal:.2f}x"
            result.met = result.ratio >= target.goal and not result.errors
            measurements.append(result)
            if spy:
                spy[0].wait()
                if spy[1].exists():
                    profiles[name] = top_frames(spy[1])
        if FLOW in names:
            before = load_average()
            spies = []  # py-spy from the first measured flow to the last (stopped by SIGINT)

            def start_profile() -> None:
                if args.profile:
                    spies.append(profile(shop, args.flow_profile, 3600, workdir, gil=args.gil))

            flows = run_flows(
                shop, customers=args.customers, flows_each=args.flows, on_start=start_profile
            )
            if spies and spies[0]:
                spy = spies[0]
                spy[0].send_signal(signal.SIGINT)
                spy[0].wait(timeout=60)
                if spy[1].exists():
                    profiles[f"{FLOW} ({args.flow_profile})"] = top_frames(spy[1])
            measurements.append(
                Measurement(
                    name=FLOW,
                    description=(
                        f"add, checkout, pay, webhook, PAID; {args.customers} customers x "
                        f"{args.flows}; req/s = flows/s, p50/p99 = p50/p95 of one flow; CPU "
                        f"per flow {flows.server_cpu_ms:.0f} ms shop + {flows.client_cpu_ms:.0f} ms "
                        f"client: at most {flows.cpu_ceiling:.1f} flows/s on "
                        f"{os.cpu_count()} cores"
                    ),
                    requests_per_second=flows.flows_per_second,
                    p50_ms=flows.p50_ms,
                    p99_ms=flows.p95_ms,
                    errors=flows.failures,
                    requests=flows.flows,
                    goal=f">={FLOW_GOAL_PER_SECOND:.0f}/s, p95<={FLOW_GOAL_P95_MS:.0f}",
                    met=flows.flows_per_second >= FLOW_GOAL_PER_SECOND
                    and flows.p95_ms <= FLOW_GOAL_P95_MS
                    and not flows.failures,
                    load_before=before,
                    load_after=load_average(),
                )
            )
            print(
                "CPU ms per checkout flow by part: "
                + ", ".join(f"{part} {ms:.0f}" for part, ms in flows.server_cpu_ms_by_part.items())
                + f"; {flows.polls_per_flow:.1f} order reads per flow before PAID"
                + "".join(
                    f"; {count:.0f} {name}" for name, count in flows.round_trips_per_flow.items()
                )
            )
    except Exception:
        sys.stderr.write("The shop's last lines:\n" + "".join(list(shop.output)[-40:]))
        raise
    finally:
        shop.stop()
        bare.stop()
        bare_granian.stop()
        if not args.profile:  # the databases and scripts; with --profile, the raw stacks too
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    report(measurements, profiles, args, elapsed, shop.lines_seen)
    if args.db == "mysql":  # the unit these figures are bounded by, measured now
        try:
            print(f"\n{redis_get(redis_url)}; {mariadb_select(shop.mysql)}")
        except Exception as error:  # a server elsewhere (no local process to read), or gone
            print(f"\nround trips not measured: {error!r}")
    if args.profile:
        print(f"\npy-spy's raw stacks: {workdir}/*.txt")
    return 1 if any(m.met is False for m in measurements) else 0


def report(
    measurements: list[Measurement],
    profiles: dict[str, dict[str, list[tuple[str, float]]]],
    args: argparse.Namespace,
    elapsed: float,
    terminal_lines: int,
) -> None:
    database = "MariaDB + Redis" if args.db == "mysql" else "SQLite + local-memory cache"
    print(
        f"\nthe shop as `make run` starts it, under {args.server}; {database}; bare/s: bare Django "
        f"under gunicorn (ratio's reference), granian/s: under granian (ratio g); wrk 2 threads, {args.connections} "
        f"connections, {args.duration} s each; {os.cpu_count()} cores; {elapsed:.0f} s in all; "
        f"{terminal_lines} lines reached the terminal\n"
    )
    print(
        f"{'endpoint':<18} {'req/s':>8} {'bare/s':>8} {'granian/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'ratio':>6} {'ratio g':>7} {'goal':<20} {'met':<4} {'load avg':<15}  what"
    )
    for m in measurements:
        ratio = "" if m.ratio is None else f"{m.ratio:.2f}"
        ratio_g = "" if m.ratio_to_granian is None else f"{m.ratio_to_granian:.2f}"
        bare = "" if m.bare_requests_per_second is None else f"{m.bare_requests_per_second:.1f}"
        granian = (
            ""
            if m.bare_granian_requests_per_second is None
            else f"{m.bare_granian_requests_per_second:.1f}"
        )
        met = "" if m.met is None else "yes" if m.met else "NO"
        print(
            f"{m.name:<18} {m.requests_per_second:>8.1f} {bare:>8} {granian:>9} {m.p50_ms:>8.2f} "
            f"{m.p99_ms:>8.2f} {m.errors:>6} {ratio:>6} {ratio_g:>7} {m.goal:<20} {met:<4} "
            f"{m.load_before:<15}  {m.description}"
        )
    for name, kinds in profiles.items():
        for kind, frames in kinds.items():
            print(f"\n{name}: top frames, {kind} (py-spy, every worker of the service)")
            for frame, share in frames:
                print(f"  {share:6.1%}  {frame}")
    RESULTS.mkdir(exist_ok=True)
    document = json.dumps(
        {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "database": args.db,
            "server": args.server,
            "cores": os.cpu_count(),
            "duration_seconds": args.duration,
            "connections": args.connections,
            "seconds_in_all": round(elapsed),
            "measurements": [asdict(m) for m in measurements],
            "profiles": profiles,
        },
        indent=2,
    )
    (RESULTS / "latest.json").write_text(document)
    (RESULTS / f"{time.strftime('%Y%m%dT%H%M%S')}-{args.db}.json").write_text(document)
    failing = [m.name for m in measurements if m.met is False]
    if failing:
        print(f"\nbelow goal or with errors: {', '.join(failing)}")


if __name__ == "__main__":
    sys.exit(main())
