"""What one round trip to Redis and to MariaDB costs on this machine, in CPU of both ends: the unit
that bounds the MariaDB + Redis figures of `make bench` (a cached read makes one, an authenticated
request one more; docs/development.md, "Benchmarks"). Run alone: python bench/round_trips.py."""

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from shop_common.databases import server_connection

ROUNDS = 3000


@dataclass(frozen=True)
class RoundTrip:
    what: str
    client_us: float
    server_us: float

    def __str__(self) -> str:
        return (
            f"{self.what}: {self.client_us + self.server_us:.0f} µs of CPU "
            f"({self.client_us:.0f} client, {self.server_us:.0f} server)"
        )


def _server_cpu(name: str) -> Callable[[], float]:
    """User + system CPU seconds of the process named ``name`` (the oldest one)."""
    pid = int(subprocess.check_output(["pgrep", "-o", "-x", name]).split()[0])
    tick = os.sysconf("SC_CLK_TCK")

    def seconds() -> float:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
        return (int(fields[11]) + int(fields[12])) / tick

    return seconds


def _measure(what: str, server: str, call: Callable[[], object]) -> RoundTrip:
    call()
    server_cpu = _server_cpu(server)
    client_before, server_before = time.process_time(), server_cpu()
    for _ in range(ROUNDS):
        call()
    return RoundTrip(
        what,
        (time.process_time() - client_before) / ROUNDS * 1e6,
        (server_cpu() - server_before) / ROUNDS * 1e6,
    )


def redis_get(url: str) -> RoundTrip:
    import redis

    client = redis.Redis.from_url(url)
    client.set("bench:round-trip", 1, ex=60)
    return _measure("one Redis GET", "redis-server", lambda: client.get("bench:round-trip"))


def mariadb_select(settings: dict) -> RoundTrip:
    """``settings``: host, port, user, password (``Shop.mysql``)."""
    connection = server_connection(**settings, purpose="a round trip")
    cursor = connection.cursor()

    def select() -> None:
        cursor.execute("SELECT 1")
        cursor.fetchone()

    try:
        return _measure("one MariaDB SELECT", "mariadbd", select)
    finally:
        connection.close()


if __name__ == "__main__":
    from shop import mysql_settings

    print(redis_get(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"))
    print(mariadb_select(mysql_settings()))
