"""docker-compose.yml as Docker would read it: Debian's docker-compose (1.29, Python) parses and
checks the file without a Docker engine (scripts/install-system-deps.sh compose installs it), with
the README's own commands."""

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
    "SERVICE_TOKEN_SIGNING_KEY",
    "MYSQL_ROOT_PASSWORD",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    *(service.client_secret_variable for service in SERVICES),
)
# The settings other than secrets, given instead of the .env beside the file (README, "Compose").
COMPOSE_ENV = ROOT / "deploy" / "compose.env"
README = (ROOT / "README.md").read_text()
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
    # else from this machine.
    env = {"PATH": os.environ["PATH"], **{name: f"test-{name.lower()}" for name in secrets}}
    return subprocess.run(  # noqa: S603 (docker-compose, fixed arguments)
        [
            COMPOSE,
            "--env-file",
            str(COMPOSE_ENV),
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


def readme_compose_lines() -> list[str]:
    """The README's compose block, one command a line (continuations joined)."""
    blocks = re.findall(r"```sh\n(.*?)```", README, re.DOTALL)
    (block,) = [block for block in blocks if "config -q" in block]
    return block.replace("\\\n", " ").strip().splitlines()


def test_the_readme_names_exactly_the_secrets_compose_requires():
    required = set(re.findall(r"\$\{([A-Z_]+):\?", (ROOT / "docker-compose.yml").read_text()))
    (exports,) = [line for line in readme_compose_lines() if line.startswith("export ")]

    assert set(re.findall(r"([A-Z_]+)=", exports)) == required == set(SECRETS)


def test_everything_else_compose_reads_is_in_its_env_file():
    optional = set(re.findall(r"\$\{([A-Z_]+):-", (ROOT / "docker-compose.yml").read_text()))
    listed = set(re.findall(r"^([A-Z_]+)=", COMPOSE_ENV.read_text(), re.MULTILINE))

    assert optional == listed


def test_the_readme_check_passes_as_written_and_reads_no_dotenv(tmp_path):
    for name in ("docker-compose.yml", "deploy/compose.env", "docker/mysql-init.sql"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    # make run's .env beside the file, with what it must not hand to a production stack.
    (tmp_path / ".env").write_text(
        "STRIPE_SECRET_KEY=sk_test_sandbox\nMETRICS_TOKEN=from-the-dotenv\n"
        "PAYMENT_GATEWAYS=stripe,razorpay\n"
    )
    check = [line for line in readme_compose_lines() if " up " not in line]

    def shell(lines: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 (bash, the README's lines)
            ["bash", "-euc", "\n".join(lines)],  # noqa: S607
            cwd=tmp_path,
            env={"PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    checked = shell(check)
    resolved = shell([line.replace("config -q", "config") for line in check])

    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""
    environment = yaml.safe_load(resolved.stdout)["services"]["payment"]["environment"]
    assert environment["STRIPE_SECRET_KEY"] == "..."  # the README's, not the .env's
    assert environment["METRICS_TOKEN"] == ""
    assert environment["PAYMENT_GATEWAYS"] == "stripe"
