"""gunicorn server hooks of every service (``--config python:shop_common.gunicorn_hooks``, set by
the one gunicorn command line): the directory where prometheus-client's multiprocess mode keeps
each worker's metric values (docs/observability.md), and each worker's own service tokens fetched
as it starts.

The master runs ``on_starting`` before it forks any worker, so the workers inherit the variable.
A directory given in ``PROMETHEUS_MULTIPROC_DIR`` is emptied of the last run's files (stale values
of dead processes would otherwise be added to the new ones); without it the master makes a
private one and removes it when it exits.
"""

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# In the one log line each worker writes about its start-up fetch, whether it got the tokens or not
# (the test stacks wait for it: shop_common.testing.stack).
WARMUP_LOGGED = "fetched at worker start"
_made_here: list[Path] = []


def on_starting(server: Any) -> None:
    given = os.environ.get(VARIABLE)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="shop-metrics-"))
        _made_here.append(folder)
        os.environ[VARIABLE] = str(folder)


def post_worker_init(worker: Any) -> None:
    """The worker's service tokens (``SERVICE_TOKEN_SCOPES``), fetched in a thread of their own
    while the worker already serves: a user service that is not up yet delays nothing and fails
    nothing (shop_common.service_tokens.warm_service_tokens)."""
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


def child_exit(server: Any, worker: Any) -> None:
    # The gauges of a worker that is gone stop counting towards "livemax"; its counters stay.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    for folder in _made_here:
        shutil.rmtree(folder, ignore_errors=True)
