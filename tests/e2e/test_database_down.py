"""A service whose database is unreachable still answers, in the error shape, under the server."""

from pathlib import Path

import httpx
import pytest

from shop_common.dotenv import without_dotenv
from shop_common.processes import ServiceProcess
from shop_common.testing.environment import stack_environment
from shop_common.testing.stack import free_port
from shop_common.testing.waiting import eventually
from shop_common.topology import SERVICES_BY_NAME

REPO_ROOT = Path(__file__).resolve().parents[2]


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.TransportError:
        return False
    return True


@pytest.fixture
def product_without_database(tmp_path):
    env = stack_environment(
        SECRET_KEY="throwaway",
        DOTENV_DIR=str(without_dotenv(tmp_path)),
        DB_ENGINE="mysql",
        DB_HOST="127.0.0.1",
        DB_PORT=str(free_port()),  # nothing listens there: refused at once
    )
    service = ServiceProcess(
        SERVICES_BY_NAME["product"],
        REPO_ROOT / "product",
        free_port(),
        env,
        workers=1,
        log_path=tmp_path / "product.log",
    )
    service.start()
    eventually(lambda: answers(f"{service.url}/no-such-page/"), bool, interval=0.1)
    yield service
    service.stop()


def test_health_is_503_naming_the_database_when_it_is_unreachable(product_without_database):
    response = httpx.get(f"{product_without_database.url}/health/", timeout=10)

    assert response.status_code == 503
    body = response.json()
    assert body["database"]["status"] == "unavailable"
    assert body["error"]["code"] == "dependency_unavailable"
    assert body["error"]["details"] == {"service": "database"}
