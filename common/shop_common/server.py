"""The shop's HTTP server: granian's WSGI server (Rust HTTP, Python threads per worker process),
started for one service with ``python -m shop_common.server config.wsgi:application --chdir
product --port 8002 ...`` (the command line is shop_common.processes.server_command).

What the shop adds around granian, each where granian has no setting for it (docs/scaling.md,
"The server"):

- prometheus-client's multiprocess directory, made (or emptied) before the workers start, and
  each dead worker marked so its gauges stop counting (docs/observability.md);
- a watchdog: every worker touches a heartbeat file from a thread of its own; one that has not
  done so for ``--worker-timeout`` seconds (its interpreter is stuck, or the process is stopped)
  is killed, and granian starts a new one (``respawn_failed_workers``);
- each worker's service tokens, fetched as it starts (shop_common.service_tokens).
"""

import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# prometheus-client reads it when it is first imported: this module must not import it (nor
# shop_common.metrics) before the variable is set, or the workers would count in memory.
MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Where the workers' heartbeat files are; set by the main process before any worker starts.
HEARTBEAT_DIR_VARIABLE = "SHOP_SERVER_HEARTBEAT_DIR"
HEARTBEAT_SECONDS = 1.0
# A worker whose heartbeat is older than this is killed and replaced. Shorter than gunicorn's 30:
# each worker has a listening socket of its own (SO_REUSEPORT), so a hung one keeps being handed
# its share of new connections until it is replaced; the heartbeat stops only when the process's
# interpreter is stuck, never because it is busy.
WORKER_TIMEOUT_SECONDS = 10
# Seconds a stopping worker may take to finish its requests before it is killed.
GRACEFUL_SECONDS = 10
# Seconds an idle connection stays open, and a request's head may take to arrive (granian times
# both with one setting). Longer than clients' pools reuse a connection (httpx's and Node's 5 s,
# the services' own 1 s): a client must never send on a connection the server is closing at that
# moment, which a POST could not safely retry. Shorter than GRACEFUL_SECONDS: a stopping worker
# waits for a connection that has sent part of a head, and would otherwise be killed.
KEEPALIVE_SECONDS = 8

logger = logging.getLogger("shop_common.server")


def prepare_metrics_dir() -> Path | None:
    """The directory the workers keep their metric values in; emptied of a last run's files (the
    values of dead processes would be added to the new ones). Returns it when made here, to be
    removed at exit."""
    given = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)
        return None
    folder = Path(tempfile.mkdtemp(prefix="shop-metrics-"))
    os.environ[MULTIPROC_DIR_VARIABLE] = str(folder)
    return folder


def worker_exited(pid: int) -> None:
    # The gauges of a worker that is gone stop counting towards "livemax"; its counters stay.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def warm_service_tokens_in_background() -> None:
    """The worker's service tokens (``SERVICE_TOKEN_SCOPES``), fetched in a thread of their own
    while the worker already serves: a user service that is not up yet delays nothing."""
    from django.conf import settings

    if not settings.configured:
        return
    scopes = tuple(getattr(settings, "SERVICE_TOKEN_SCOPES", ()))
    within = float(getattr(settings, "SERVICE_TOKEN_WARMUP_SECONDS", 0))
    if not scopes or within <= 0:
        return
    from shop_common.service_tokens import warm_service_tokens

    threading.Thread(
        target=warm_service_tokens,
        args=(scopes,),
        kwargs={"within": within},
        name="service-token-warmup",
        daemon=True,
    ).start()


def _beat(path: Path) -> None:
    parent = os.getppid()
    while True:
        if os.getppid() != parent:
            # The main process is gone (killed): nobody would stop or replace this worker.
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(GRACEFUL_SECONDS)
            os._exit(1)
        path.touch()
        time.sleep(HEARTBEAT_SECONDS)


def _stop_only_when_told() -> None:
    """A worker stops on the SIGTERM of its main process alone. Ctrl-C reaches the whole process
    group, and a worker that got SIGINT and then the main process's SIGTERM sometimes never
    stopped (granian 2.8), so it was killed with its requests in flight. granian has no setting for
    this: its worker's signal set-up is wrapped (granian is pinned; the Ctrl-C test in
    tests/e2e/test_server.py fails if that set-up changes)."""
    import granian._signals

    install = granian._signals.set_sync_signals

    def sigterm_only() -> Any:
        event = install()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return event

    granian._signals.set_sync_signals = sigterm_only


def load_application(target: str) -> Callable[..., Any]:
    """Runs in each worker: starts its heartbeat (first, so a worker that hangs while it loads the
    application is replaced too), loads the WSGI application, then fetches the service tokens."""
    # The main process's handlers came with the fork: until granian sets the worker's own, a
    # SIGTERM stops this worker at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _stop_only_when_told()
    folder = os.environ.get(HEARTBEAT_DIR_VARIABLE)
    if folder:
        beat = Path(folder) / str(os.getpid())
        threading.Thread(target=_beat, args=(beat,), name="heartbeat", daemon=True).start()
    module_name, _, attribute = target.partition(":")
    module = __import__(module_name, fromlist=["_"])
    application = getattr(module, attribute or "application")
    warm_service_tokens_in_background()
    return application


class Watchdog:
    """In the main process: kills a worker whose heartbeat is older than ``timeout`` and marks
    every worker that is gone (killed here, crashed, or replaced) dead for the metrics."""

    def __init__(self, server: Any, folder: Path, timeout: float) -> None:
        self.server = server
        self.folder = folder
        self.timeout = timeout
        self.first_seen: dict[int, float] = {}
        self.stopping = threading.Event()

    def check(self) -> None:
        now = time.time()
        alive = set()
        for worker in list(self.server.wrks):
            pid = worker.inner.pid
            if pid is None or not worker.is_alive():
                continue
            alive.add(pid)
            seen = self.first_seen.setdefault(pid, now)
            try:
                last = max(seen, (self.folder / str(pid)).stat().st_mtime)
            except FileNotFoundError:
                last = seen
            if now - last > self.timeout:
                logger.error(
                    "Worker %s gave no sign of life for %.0f s: killed, a new one starts",
                    pid,
                    now - last,
                )
                os.kill(pid, signal.SIGKILL)
        for pid in set(self.first_seen) - alive:
            del self.first_seen[pid]
            (self.folder / str(pid)).unlink(missing_ok=True)
            worker_exited(pid)

    def run(self) -> None:
        while not self.stopping.wait(HEARTBEAT_SECONDS):
            self.check()


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="One shop service under granian (WSGI).")
    parser.add_argument("app", help="the WSGI application, module:attribute")
    parser.add_argument("--chdir", type=Path, required=True, help="the service's folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="Python threads per worker")
    parser.add_argument("--worker-timeout", type=float, default=WORKER_TIMEOUT_SECONDS)
    return parser.parse_args(argv)


def logging_config() -> dict:
    """granian's own lines (workers started and stopped) and the watchdog's, on stderr."""
    return {
        "formatters": {
            "generic": {
                "()": "logging.Formatter",
                "fmt": "[server] [%(levelname)s] %(message)s",
            }
        },
        "handlers": {
            "console": {
                "formatter": "generic",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "shop_common.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def main(argv: list[str] | None = None) -> None:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    args = parse_arguments(argv)
    service_dir = args.chdir.resolve()
    os.chdir(service_dir)
    sys.path.insert(0, str(service_dir))
    made_metrics_dir = prepare_metrics_dir()
    heartbeats = Path(tempfile.mkdtemp(prefix="shop-heartbeat-"))
    os.environ[HEARTBEAT_DIR_VARIABLE] = str(heartbeats)
    server = Server(
        args.app,
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        http=HTTPModes.http1,
        workers=args.workers,
        blocking_threads=max(1, args.threads),
        # Threads keep their database connections: a pool that shrinks when idle would reopen them.
        blocking_threads_idle_timeout=600,
        http1_settings=HTTP1Settings(header_read_timeout=KEEPALIVE_SECONDS * 1000),
        log_dictconfig=logging_config(),
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_SECONDS,
    )
    watchdog = Watchdog(server, heartbeats, args.worker_timeout)
    threading.Thread(target=watchdog.run, name="watchdog", daemon=True).start()
    try:
        server.serve(target_loader=load_application)
    finally:
        watchdog.stopping.set()
        shutil.rmtree(heartbeats, ignore_errors=True)
        if made_metrics_dir:
            shutil.rmtree(made_metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
