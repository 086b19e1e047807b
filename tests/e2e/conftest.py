"""The whole shop under gunicorn, on free ports, wired together over real HTTP.

The database comes from the environment like everywhere else: SQLite files in a temporary folder by
default; with DB_ENGINE=mysql, fresh `e2e_*` schemas on that server.
"""

import os
from pathlib import Path

import pytest

from shop_common.processes import Stack
from shop_common.topology import SERVICES

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    shop = Stack(
        repo_root=REPO_ROOT,
        workdir=tmp_path_factory.mktemp("stack"),
        services=SERVICES,
        base_env=dict(os.environ),
    )
    try:
        shop.start()
        yield shop
    finally:
        shop.stop()
