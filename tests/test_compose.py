"""docker-compose.yml as Docker would read it: Debian's docker-compose (1.29, Python) parses and
checks the file without a Docker engine (scripts/install-system-deps.sh compose installs it)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = shutil.which("docker-compose")
SECRETS = (
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "MYSQL_ROOT_PASSWORD",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    *(service.client_secret_variable for service in SERVICES),
)
# An empty file of our own (compose wants a regular file, not /dev/null).
EMPTY_ENV_FILE = ROOT / "tests" / "compose.env"
JOBS = {
    "expire-reservations": "product",
    "expire-orders": "order",
    "drain-outbox": "order",
    "reconcile-payments": "payment",
    "drain-payment-outbox": "payment",
}

pytestmark = pytest.mark.skipif(
    COMPOSE is None, reason="no docker-compose (scripts/install-system-deps.sh compose)"
)


def compose(*args: str, secrets: tuple[str, ...] = SECRETS) -> subprocess.CompletedProcess:
    # The secrets the file requires, as an operator's environment would give them, and nothing
    # from this machine: not make run's .env beside the file, which compose would read too.
    env = {"PATH": os.environ["PATH"], **{name: f"test-{name.lower()}" for name in secrets}}
    return subprocess.run(  # noqa: S603 (docker-compose, fixed arguments)
        [
            COMPOSE,
            "--env-file",
            str(EMPTY_ENV_FILE),
            "--project-directory",
            str(ROOT),
            "-f",
            str(ROOT / "docker-compose.yml"),
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_docker_compose_config_accepts_the_file_without_a_word():
    checked = compose("config", "-q")

    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""


def test_a_missing_secret_stops_compose():
    checked = compose("config", "-q", secrets=SECRETS[1:])

    assert checked.returncode != 0
    assert "set SECRET_KEY" in checked.stderr


@pytest.fixture(scope="module")
def resolved() -> dict:
    answer = compose("config")
    assert answer.returncode == 0, answer.stderr
    return yaml.safe_load(answer.stdout)


def test_every_service_has_a_health_check_and_starts_after_what_it_needs(resolved):
    services = resolved["services"]
    for name in ("mysql", "redis", *(service.name for service in SERVICES)):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    for service in SERVICES:
        needs = {"mysql", "redis"} | ({"user"} if service.name != "user" else set())
        depends = services[service.name]["depends_on"]
        assert set(depends) == needs, service.name
        assert all(depends[name]["condition"] == "service_healthy" for name in needs)
    for job, service in JOBS.items():
        depends = services[job]["depends_on"]
        assert depends[service]["condition"] == "service_healthy", job


def test_mysql_creates_the_six_schemas_on_first_start(resolved):
    # docker-compose 1.29 writes a bind mount as "source:target:mode".
    mounts = [volume.split(":") for volume in resolved["services"]["mysql"]["volumes"]]
    (source,) = [m[0] for m in mounts if m[1].startswith("/docker-entrypoint-initdb.d/")]
    script = Path(source).read_text()

    created = re.findall(r"CREATE DATABASE IF NOT EXISTS `([a-z_]+)` CHARACTER SET utf8mb4", script)
    assert sorted(created) == sorted(service.schema for service in SERVICES)
