#!/usr/bin/env python
"""`make soak`: the whole shop under granian on MariaDB with Redis, loaded for a few minutes by
locust (bench/locustfile.py) with a shop's mix, then the books checked. Prints requests, rate and
p95 per endpoint, the 5xx count and the stock ledger's verdict; exits 1 on any 5xx or a ledger
that does not balance (README.md, "Soak").

    make soak                              # 3 minutes, 24 shoppers
    SOAK_SECONDS=60 SOAK_USERS=12 make soak

The books are checked by shop_common.testing.ledger.
"""

import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flow import stocked_products

from shop_common.testing.ledger import ledger
from shop_common.testing.stack import Stack
from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
STOCK = 100_000
PRODUCTS = 12


def reachable(env: dict[str, str]) -> str | None:
    """Why the soak cannot run here, or None."""
    import MySQLdb
    import redis

    try:
        MySQLdb.connect(
            host=env["DB_HOST"],
            port=int(env["DB_PORT"]),
            user=env["DB_USER"],
            passwd=env["DB_PASSWORD"],
        ).close()
    except MySQLdb.Error as error:
        return f"MariaDB at {env['DB_HOST']}:{env['DB_PORT']} cannot be reached: {error}"
    try:
        redis.Redis.from_url(env["REDIS_URL"], socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as error:
        return f"Redis at {env['REDIS_URL']} cannot be reached: {error}"
    return None


def report(csv_prefix: Path, seconds: float) -> tuple[int, int]:
    with open(f"{csv_prefix}_stats.csv") as stats:
        rows = list(csv.DictReader(stats))
    print(
        f"\n{'endpoint':<32} {'requests':>9} {'failures':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}"
    )
    total = failures = 0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all"
        print(
            f"{name:<32} {row['Request Count']:>9} {row['Failure Count']:>9} "
            f"{float(row['Requests/s']):>8.1f} {row['50%']:>8} {row['95%']:>8}"
        )
        if row["Name"] == "Aggregated":
            total, failures = int(row["Request Count"]), int(row["Failure Count"])
    print(
        f"\n{total} requests in {seconds:.0f} s: {total / seconds:.1f} req/s, {failures} failures"
    )
    return total, failures


def main() -> int:
    seconds = int(os.environ.get("SOAK_SECONDS", "180"))
    users = int(os.environ.get("SOAK_USERS", "24"))
    env = {
        **os.environ,
        "DB_ENGINE": "mysql",
        "DB_HOST": os.environ.get("DB_HOST", "127.0.0.1"),
        "DB_PORT": os.environ.get("DB_PORT", "3306"),
        "DB_USER": os.environ.get("DB_USER", "root"),
        "DB_PASSWORD": os.environ.get("DB_PASSWORD", ""),
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "CACHE_KEY_PREFIX": f"soak-{secrets.token_hex(4)}",
        # The shoppers all come from 127.0.0.1: one address is the whole crowd.
        "SIGNUP_RATE_PER_IP": "1000000/hour",
        # The shoppers' tokens are made before the load and must outlive it.
        "JWT_ACCESS_SECONDS": str(seconds + 600),
        "LOG_LEVEL": "WARNING",
    }
    why_not = reachable(env)
    if why_not:
        print(f"make soak needs MariaDB and Redis: {why_not}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    stack = Stack(
        repo_root=ROOT,
        workdir=workdir,
        services=SERVICES,
        base_env=env,
        schema_prefix="soak_",
        demo_data=True,
    )
    print(f"Starting the shop (MariaDB, Redis; logs in {workdir}) ...", flush=True)
    stack.start()
    try:
        product_ids = stocked_products(
            stack, [f"{5 + n}.99" for n in range(PRODUCTS)], name="Soak", quantity=STOCK
        )
        result_file = workdir / "result.json"
        csv_prefix = workdir / "soak"
        locust_env = {
            **env,
            **{f"SOAK_{service.name.upper()}_URL": stack.url(service.name) for service in SERVICES},
            "SOAK_PRODUCTS": ",".join(map(str, product_ids)),
            "SOAK_TOKENS": ",".join(stack.new_customer_token() for _ in range(users)),
            "SOAK_RESULT": str(result_file),
        }
        started = time.monotonic()
        locust_log = workdir / "locust.log"
        print(
            f"{users} shoppers for {seconds} s (locust's own output: {locust_log}) ...", flush=True
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(users),
                "--run-time",
                f"{seconds}s",
                "--csv",
                str(csv_prefix),
                "--only-summary",
                "--stop-timeout",
                "10",
                "--loglevel",
                "WARNING",
            ],
            env=locust_env,
            stdout=locust_log.open("w"),
            stderr=subprocess.STDOUT,
            check=False,
        )
        elapsed = time.monotonic() - started
        total, _ = report(csv_prefix, elapsed)
        server_errors = json.loads(result_file.read_text())["server_errors"]
        time.sleep(5)  # the sandbox's last webhook deliveries
        problems = ledger(stack, {pid: STOCK for pid in product_ids})
    finally:
        stack.stop()
    print(f"5xx answers: {len(server_errors)}")
    for line in server_errors[:20]:
        print(f"  {line}")
    print("ledger: balanced" if not problems else f"ledger: {len(problems)} problems")
    for line in problems[:30]:
        print(f"  {line}")
    return 0 if total and not server_errors and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
