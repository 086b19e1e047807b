"""gunicorn server hooks, for `make bench --server gunicorn` only (the shop runs under granian,
shop_common.server): the same metrics directory, dead-worker marking and token warm-up, so the
comparison runs the same shop."""

import shutil
from pathlib import Path
from typing import Any

from shop_common import server

_made_here: list[Path] = []


def on_starting(arbiter: Any) -> None:
    made = server.prepare_metrics_dir()
    if made:
        _made_here.append(made)


def post_worker_init(worker: Any) -> None:
    server.warm_service_tokens_in_background()


def child_exit(arbiter: Any, worker: Any) -> None:
    server.worker_exited(worker.pid)


def on_exit(arbiter: Any) -> None:
    for folder in _made_here:
        shutil.rmtree(folder, ignore_errors=True)
