"""A throwaway shop for end-to-end tests and benchmarks: several services under the shop's server
(granian) on free ports, wired to each other, with their own databases and secrets (:class:`Stack`); free ports and a
Redis of a test's own. The processes themselves are :mod:`shop_common.processes`."""

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from shop_common.databases import recreate_mysql_schemas
from shop_common.demo import DEMO_LOGINS
from shop_common.dotenv import without_dotenv
from shop_common.processes import (
    ServiceProcess,
    prepare_databases,
    sandbox_process,
    threads_for,
)
from shop_common.server import MULTIPROC_DIR_VARIABLE, WORKER_TIMEOUT_SECONDS
from shop_common.service_tokens import WARMUP_LOGGED
from shop_common.testing.waiting import eventually
from shop_common.topology import SANDBOXES, SERVICES_BY_NAME, Service


class ServiceUrls(Protocol):
    """A running shop: a :class:`Stack`, or the benchmarks' ``make run`` (bench/shop.py)."""

    def url(self, service_name: str) -> str: ...


def login(shop: ServiceUrls, email: str, password: str) -> dict:
    """The user service's answer to a login (``access``, ``refresh``, ``user``, ...)."""
    answer = httpx.post(
        f"{shop.url('user')}/auth/login/", json={"email": email, "password": password}, timeout=30
    )
    if answer.status_code != 200:
        raise AssertionError(f"login as {email} answered {answer.status_code}: {answer.text}")
    return answer.json()


def demo_token(shop: ServiceUrls, role: str) -> str:
    """An access token of the demo user with ``role`` (a shop started with its demo data)."""
    return login(shop, *DEMO_LOGINS[role])["access"]


def service_token(shop: "Stack", service_name: str, scope: str = "internal") -> str:
    """A client-credentials token of the shop service ``service_name`` (its own client id and
    secret), as that service fetches it for its internal calls."""
    service = SERVICES_BY_NAME[service_name]
    answer = httpx.post(
        f"{shop.url('user')}/o/token/",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(service.client_id, shop.secrets[service.client_secret_variable]),
        timeout=30,
    )
    if answer.status_code != 200:
        raise AssertionError(f"{service_name}'s token answered {answer.status_code}: {answer.text}")
    return answer.json()["access_token"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The settings module a stack with settings of its own runs its services with (in its workdir).
STACK_SETTINGS_MODULE = "stack_settings"


def _provider(sandbox: Service) -> str:
    """``stripe`` for the ``stripe-sandbox``: its variables' prefix and its webhook path."""
    return sandbox.name.removesuffix("-sandbox")


@dataclass
class Stack:
    """Several services under the shop's server on free ports, wired to each other, with throwaway databases.

    SQLite files go under ``workdir``; with DB_ENGINE=mysql each service gets a fresh schema named
    ``<schema_prefix><its schema>``. Logs go to ``workdir/<service>.log``. ``settings``: Django
    settings every service runs with instead of its own (what ``override_settings`` is to a test in
    one process), written to a settings module that starts from the service's ``config.settings``.
    """

    repo_root: Path
    workdir: Path
    services: tuple[Service, ...]
    base_env: Mapping[str, str]
    schema_prefix: str = "e2e_"
    workers: int = 2
    demo_data: bool = False
    # Seconds without a heartbeat before a worker is replaced (shop_common.server).
    worker_timeout: float = WORKER_TIMEOUT_SECONDS
    settings: Mapping[str, Any] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    envs: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # DB_SCHEMA_PREFIX in the environment keeps two checkouts' test stacks apart on one server.
        self.schema_prefix = self.base_env.get("DB_SCHEMA_PREFIX", "") + self.schema_prefix
        # One set of throwaway secrets per stack, shared the way make run's .env shares them.
        self.secrets = {
            "SECRET_KEY": secrets.token_urlsafe(32),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
            "STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_hex(16)}",
            "STRIPE_SECRET_KEY": "sk_test_stack",
            "RAZORPAY_KEY_ID": "rzp_test_stack",
            "RAZORPAY_KEY_SECRET": secrets.token_urlsafe(24),
            "RAZORPAY_WEBHOOK_SECRET": secrets.token_urlsafe(32),
            **{
                service.client_secret_variable: secrets.token_urlsafe(32)
                for service in self.services
            },
        }

    def service_env(self, service: Service, ports: Mapping[str, int]) -> dict[str, str]:
        env = {**self.base_env, **self.secrets}
        env["DEBUG"] = "False"
        # A test runner's own settings module must not leak into the services it starts.
        env["DJANGO_SETTINGS_MODULE"] = "config.settings"
        if self.settings:
            env["DJANGO_SETTINGS_MODULE"] = STACK_SETTINGS_MODULE
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, (str(self.workdir), env.get("PYTHONPATH")))
            )
        # The developer's .env (make run writes one) must not change what a test stack runs with.
        env["DOTENV_DIR"] = str(without_dotenv(self.workdir))
        # Each service's metric files in a folder the tests know (Stack.counted reads them); made
        # now, since its management commands count too (the server empties it as it starts).
        metrics = Path(
            env.setdefault(MULTIPROC_DIR_VARIABLE, str(self.workdir / f"{service.name}-metrics"))
        )
        metrics.mkdir(parents=True, exist_ok=True)
        mysql = env.get("DB_ENGINE", "sqlite") == "mysql"
        env["DB_NAME"] = (
            f"{self.schema_prefix}{service.schema}"
            if mysql
            else str(self.workdir / f"{service.schema}.sqlite3")
        )
        for other in self.services:
            env[other.url_variable] = f"http://127.0.0.1:{ports[other.name]}"
        for sandbox in SANDBOXES:
            if sandbox.name in ports:
                prefix = _provider(sandbox).upper()
                env[f"{prefix}_API_BASE"] = f"http://127.0.0.1:{ports[sandbox.name]}"
                # DEBUG is off here like in production; the sandbox is allowed by name.
                env[f"{prefix}_SANDBOX_ALLOWED"] = "True"
        return env

    def start(self) -> None:
        ports = {service.name: free_port() for service in self.services}
        # A stack with the payment service gets the offline provider sandboxes beside it.
        with_sandbox = any(service.name == "payment" for service in self.services)
        if with_sandbox:
            ports.update({sandbox.name: free_port() for sandbox in SANDBOXES})
        self.write_settings_module()
        self.envs = envs = {
            service.name: self.service_env(service, ports) for service in self.services
        }
        if self.base_env.get("DB_ENGINE", "sqlite") == "mysql":
            recreate_mysql_schemas(
                [f"{self.schema_prefix}{service.schema}" for service in self.services],
                host=self.base_env.get("DB_HOST", "127.0.0.1"),
                port=int(self.base_env.get("DB_PORT", "3306")),
                user=self.base_env.get("DB_USER", "root"),
                password=self.base_env.get("DB_PASSWORD", ""),
            )
        prepare_databases(
            [(self.repo_root / service.folder, envs[service.name]) for service in self.services],
            demo_data=self.demo_data,
        )
        for service in self.services:
            process = ServiceProcess(
                service,
                self.repo_root / service.folder,
                ports[service.name],
                envs[service.name],
                workers=self.workers,
                threads=threads_for(service.name),
                log_path=self.workdir / f"{service.name}.log",
                worker_timeout=self.worker_timeout,
            )
            process.start()
            self.processes[service.name] = process
        for sandbox in SANDBOXES if with_sandbox else ():
            provider = _provider(sandbox)
            prefix = f"{provider.upper()}_SANDBOX"
            process = sandbox_process(
                sandbox,
                self.repo_root,
                port=ports[sandbox.name],
                env={
                    **self.base_env,
                    **self.secrets,
                    # Its events go to the payment service; its pages link to where that reaches it.
                    "PAYMENT_SERVICE_URL": envs["payment"]["PAYMENT_SERVICE_URL"],
                    f"{provider.upper()}_API_BASE": envs["payment"][f"{provider.upper()}_API_BASE"],
                    # /_sandbox/requests: what the SDK sent, for the end-to-end tests.
                    f"{prefix}_DEBUG_ROUTES": "True",
                },
                log_path=self.workdir / f"{sandbox.name}.log",
            )
            process.start()
            self.processes[sandbox.name] = process
        for process in self.processes.values():
            process.wait_until_healthy()
        self.wait_for_service_tokens()

    def write_settings_module(self) -> None:
        if not self.settings:
            return
        lines = [
            '"""Written by shop_common.testing.stack: the service\'s settings, then the test\'s."""',
            "from config.settings import *  # noqa: F403",
            *(f"{name} = {value!r}" for name, value in self.settings.items()),
        ]
        (self.workdir / f"{STACK_SETTINGS_MODULE}.py").write_text("\n".join(lines) + "\n")

    def wait_for_service_tokens(self, timeout: float = 60.0) -> None:
        """Until every worker has fetched its own service tokens as it starts
        (shop_common.server), or logged that it could not. Each token is a client-secret
        hash at the user service, slow by design, and a test that started meanwhile would
        queue behind them (a login timed out so once). Read from the INFO lines: a stack without
        the user service, or with logging above INFO, does not wait."""
        level = self.base_env.get("LOG_LEVEL", "INFO").upper()
        if level not in ("DEBUG", "INFO") or "user" not in self.processes:
            return
        deadline = time.monotonic() + timeout
        for service in self.services:
            if service.token_scopes:
                log = self.workdir / f"{service.name}.log"
                eventually(
                    lambda log=log: log.read_text(errors="replace") if log.exists() else "",
                    lambda text: text.count(WARMUP_LOGGED) >= self.workers,
                    timeout=max(0.0, deadline - time.monotonic()),
                    interval=0.1,
                )

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()

    def url(self, service_name: str) -> str:
        return self.processes[service_name].url

    def counted(self, service_name: str, sample: str, **labels: str) -> float:
        """``sample`` (``shop_http_requests_total``...) added up over every worker of the service
        and every label set that includes ``labels``, as its /metrics would show it. A request is
        counted before its answer leaves, so the count is whole as soon as the calls return (a
        log line is written later, by the log's own thread)."""
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.envs[service_name][MULTIPROC_DIR_VARIABLE])
        return sum(
            found.value
            for metric in registry.collect()
            for found in metric.samples
            if found.name == sample and labels.items() <= found.labels.items()
        )

    def answered(self, service_name: str, view: str) -> float:
        """The answers of ``view`` (``accounts.apis.ValidateApi``...) so far, any status."""
        return self.counted(service_name, "shop_http_requests_total", view=view)

    def new_customer_token(self, password: str = "a-long-enough-passphrase-7") -> str:  # noqa: S107
        """Signs up a new customer on this stack's user service and returns their access token
        (one no service has validated yet, so it is in no cache)."""
        users = self.url("user")
        email = f"customer-{secrets.token_hex(6)}@shop.test"
        # Password hashing is slow on purpose; several of these at once on a busy machine take
        # longer than httpx's default 5 s, which is a test harness limit, not the shop's.
        body = {"email": email, "password": password}
        httpx.post(f"{users}/auth/signup/", json=body, timeout=30).raise_for_status()
        login = httpx.post(f"{users}/auth/login/", json=body, timeout=30)
        login.raise_for_status()
        return login.json()["access"]

    def manage(self, service_name: str, *args: str) -> str:
        """Runs a management command of one service with that service's environment."""
        service = next(service for service in self.services if service.name == service_name)
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.repo_root / service.folder,
            env=self.envs[service_name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout


def start_redis_server(port: int, folder: Path, timeout: float = 10.0) -> subprocess.Popen:
    """A redis-server of a test's own on 127.0.0.1:``port`` (nothing kept on disk), answering when
    this returns; stop it with ``terminate()``."""
    import redis  # only the tests that stop and start a Redis need it

    process = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )

    def answers() -> bool:
        try:
            return redis.Redis(port=port, socket_connect_timeout=0.2).ping()
        except redis.exceptions.ConnectionError:
            return False

    if not eventually(answers, bool, timeout=timeout, interval=0.05):
        process.kill()
        raise RuntimeError(f"redis-server on port {port} did not answer within {timeout} s")
    return process


@contextlib.contextmanager
def own_redis(folder: Path) -> Iterator[str]:
    """The URL of a redis-server of the caller's own, stopped when the block ends; a test skips
    where there is none. Not the machine's Redis: another run's test may empty that one."""
    import pytest

    if not shutil.which("redis-server"):
        pytest.skip("no redis-server here (Debian's redis-server package)")
    port = free_port()
    server = start_redis_server(port, folder)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)
