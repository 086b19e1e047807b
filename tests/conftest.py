"""Fixtures of the whole-system suites (tests/ and tests/e2e/)."""

import importlib.util
import os
from pathlib import Path

import pytest

from shop_common.testing.stack import free_port, own_redis

ROOT = Path(__file__).resolve().parent.parent


def mariadb_script():
    spec = importlib.util.spec_from_file_location("mariadb", ROOT / "scripts" / "mariadb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory) -> dict[str, str]:
    """The DB_* variables of a MariaDB for the tests that need one whatever the run's database: the
    configured server with DB_ENGINE=mysql (CI's), otherwise one of this session's own
    (scripts/mariadb.py, as the README's recipe starts one); skipped when neither can be had."""
    if os.environ.get("DB_ENGINE") == "mysql":
        defaults = {"DB_HOST": "127.0.0.1", "DB_PORT": "3306", "DB_USER": "root", "DB_PASSWORD": ""}
        yield {
            "DB_ENGINE": "mysql",
            **{name: os.environ.get(name, d) for name, d in defaults.items()},
        }
        return
    script = mariadb_script()
    folder = tmp_path_factory.mktemp("mariadb")
    port = free_port()
    try:
        script.start(folder, port)
    except script.MariaDBError as error:
        pytest.skip(f"no MariaDB configured (DB_ENGINE=mysql) and none could be started: {error}")
    try:
        yield script.variables(port)
    finally:
        script.stop(folder)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """A redis-server of the session's own (skips the test where there is none)."""
    with own_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url
