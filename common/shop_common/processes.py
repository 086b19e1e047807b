"""Starting services as real processes: the one server command line (granian, through
shop_common.server), used by `make run`, docker-compose, Kubernetes, the end-to-end tests and the
benchmarks alike. A whole throwaway shop for tests and benchmarks is
:class:`shop_common.testing.stack.Stack`."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shop_common.server import GRACEFUL_SECONDS, KEEPALIVE_SECONDS, WORKER_TIMEOUT_SECONDS
from shop_common.topology import Service

# Python threads per worker process, by service; `WEB_CONCURRENCY` workers (2) of each. Sized for
# 2 cores (docs/scaling.md): the user and product services compute and answer the others, so a few
# threads, enough to overlap a database round trip; the services that wait on others hold a thread
# for the whole call chain (the integration service's checkout waits on cart, order, product,
# payment and the provider), so more. Every thread may hold a database connection: 2 x 28 per
# shop stays well under MariaDB's default 151.
THREADS_PER_WORKER = {
    "user": 4,
    "product": 4,
    "cart": 4,
    "order": 4,
    "payment": 4,
    "integration": 8,
}
GRANIAN = "granian"
# The server the shop ran under before granian: `make bench --server gunicorn` only, to compare.
GUNICORN = "gunicorn"
SERVERS = (GRANIAN, GUNICORN)


def threads_for(service_name: str) -> int:
    return THREADS_PER_WORKER.get(service_name, 1)


def server_command(
    service_dir: Path,
    *,
    port: int,
    host: str = "127.0.0.1",
    workers: int = 2,
    app: str = "config.wsgi:application",
    threads: int = 1,
    server: str = GRANIAN,
    worker_timeout: float = WORKER_TIMEOUT_SECONDS,
) -> list[str]:
    if server == GUNICORN:
        return gunicorn_command(
            service_dir, port=port, host=host, workers=workers, app=app, threads=threads
        )
    return [
        sys.executable,
        "-m",
        "shop_common.server",
        app,
        "--chdir",
        str(service_dir),
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(max(1, threads)),
        "--worker-timeout",
        str(worker_timeout),
    ]


def gunicorn_command(
    service_dir: Path,
    *,
    port: int,
    host: str = "127.0.0.1",
    workers: int = 2,
    app: str = "config.wsgi:application",
    threads: int = 1,
) -> list[str]:
    """The gunicorn gthread command the shop ran under before granian, with the same workers,
    threads, keep-alive and hooks (shop_common.gunicorn_hooks): the reference of `make bench`."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--chdir",
        str(service_dir),
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(max(1, threads)),
        "--keep-alive",
        str(KEEPALIVE_SECONDS),
        "--timeout",
        str(WORKER_TIMEOUT_SECONDS),
        "--graceful-timeout",
        str(GRACEFUL_SECONDS),
        # Without it every gunicorn on the machine shares ~/.gunicorn/gunicorn.ctl.
        "--no-control-socket",
        "--config",
        "python:shop_common.gunicorn_hooks",
        # No access log: the shop's middleware writes one line per request, without the query
        # string (which may carry a token); gunicorn's would print it whole.
        "--error-logfile",
        "-",
    ]


def prepare_databases(
    jobs: Iterable[tuple[Path, Mapping[str, str]]], *, demo_data: bool = False
) -> None:
    """Runs ``manage.py prepare_service`` for several services at once (create, migrate, demo data)."""
    command = ["prepare_service", *(["--demo-data"] if demo_data else [])]
    running = [
        (
            service_dir,
            subprocess.Popen(
                [sys.executable, "manage.py", *command],
                cwd=service_dir,
                env=dict(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
        )
        for service_dir, env in jobs
    ]
    failures = []
    for service_dir, process in running:
        output, _ = process.communicate()
        if process.returncode != 0:
            failures.append(f"--- {service_dir.name} ---\n{output}")
    if failures:
        raise RuntimeError("Preparing the databases failed:\n" + "\n".join(failures))


@dataclass
class ServiceProcess:
    """One service under the server on a port of its own, for tests and benchmarks."""

    service: Service
    service_dir: Path
    port: int
    env: dict[str, str]
    workers: int = 2
    log_path: Path | None = None
    ready_path: str = "/health/"
    app: str = "config.wsgi:application"
    threads: int = 1
    server: str = GRANIAN
    worker_timeout: float = WORKER_TIMEOUT_SECONDS
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, host: str = "127.0.0.1") -> list[str]:
        return server_command(
            self.service_dir,
            port=self.port,
            host=host,
            workers=self.workers,
            app=self.app,
            threads=self.threads,
            server=self.server,
            worker_timeout=self.worker_timeout,
        )

    def start(self) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.service.name} exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}{self.ready_path}", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.service.name} was not healthy within {timeout} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def sandbox_process(
    sandbox: Service,
    repo_root: Path,
    *,
    port: int,
    env: Mapping[str, str],
    log_path: Path | None = None,
    server: str = GRANIAN,
) -> ServiceProcess:
    """An offline provider sandbox (``STRIPE_SANDBOX``, ``RAZORPAY_SANDBOX``) under the server: one
    worker process (its state is in memory), threads. Its WSGI app is ``<name>_sandbox.app``."""
    return ServiceProcess(
        sandbox,
        repo_root / sandbox.folder,
        port,
        dict(env),
        workers=1,
        log_path=log_path,
        app=f"{sandbox.name.removesuffix('-sandbox')}_sandbox.app:application",
        threads=8,
        server=server,
    )
