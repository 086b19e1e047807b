"""The files that describe the topology outside Python (Procfile, docker-compose.yml, .env.example)
agree with common/shop_common/topology.py, so they cannot drift apart unnoticed."""

import ast
import re
from pathlib import Path

import httpx
import pytest
import yaml

from shop_common import server, service_client
from shop_common.processes import gunicorn_command, server_command
from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ENV_EXAMPLE = (ROOT / ".env.example").read_text()


def variables_read_by_the_code() -> set[str]:
    names = set()
    sources = [*(ROOT / "common" / "shop_common").rglob("*.py")]
    for service in SERVICES:
        sources += (ROOT / service.folder).rglob("*.py")
    for source in sources:
        names |= set(re.findall(r"\benv\(\s*\"([A-Z][A-Z0-9_]*)\"", source.read_text()))
    return names | {service.url_variable for service in SERVICES}


def test_every_variable_the_code_reads_is_in_env_example():
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE, re.MULTILINE))

    missing = variables_read_by_the_code() - listed
    assert not missing, f"add to .env.example: {sorted(missing)}"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_env_example_gives_the_topology_url(service):
    assert f"{service.url_variable}={service.default_url}\n" in ENV_EXAMPLE


def test_procfile_starts_each_service_once_and_waits_for_them():
    lines = (ROOT / "Procfile").read_text().splitlines()
    commands = dict(line.split(": ", 1) for line in lines if line.strip())

    for service in SERVICES:
        assert commands[service.name] == f"python scripts/serve.py {service.name}"
    assert commands["ready"] == "python scripts/announce.py"
    assert commands["expire-reservations"].startswith("python scripts/periodic.py --every ")


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_compose_runs_each_service_on_its_port_with_its_own_schema(service):
    definition = COMPOSE["services"][service.name]

    assert definition["command"] == [service.name]
    assert definition["ports"] == [f"{service.port}:{service.port}"]
    environment = definition["environment"]
    assert environment["DB_NAME"] == service.schema
    assert environment["DB_ENGINE"] == "mysql"
    for other in SERVICES:
        assert environment[other.url_variable] == f"http://{other.name}:{other.port}"


def test_compose_has_mysql_8_redis_and_the_periodic_jobs():
    assert COMPOSE["services"]["mysql"]["image"].startswith("mysql:8")
    assert COMPOSE["services"]["redis"]["image"].startswith("redis:")
    jobs = {
        "expire-reservations",
        "expire-orders",
        "drain-outbox",
        "reconcile-payments",
        "drain-payment-outbox",
    }
    assert set(COMPOSE["services"]) == {
        "mysql",
        "redis",
        *jobs,
        *(service.name for service in SERVICES),
    }
    procfile = (ROOT / "Procfile").read_text()
    for job in jobs:
        command = " ".join(COMPOSE["services"][job]["entrypoint"][1:])
        assert f"python {command}" in procfile, job


def test_compose_gives_every_service_the_secrets_its_settings_require():
    environment = COMPOSE["services"]["user"]["environment"]
    required = {
        "SECRET_KEY",
        "JWT_SIGNING_KEY",
        "SERVICE_TOKEN_SIGNING_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_SECRET_KEY",
    }
    assert required | {service.client_secret_variable for service in SERVICES} <= set(environment)


def test_the_benchmarks_gunicorn_runs_without_the_shared_control_socket():
    """make bench's reference: two gunicorns at once would otherwise share ~/.gunicorn/gunicorn.ctl."""
    command = gunicorn_command(ROOT / "product", port=8002)

    assert "--no-control-socket" in command


def test_services_keep_connections_open_longer_than_their_callers_reuse_them():
    """A pooled connection the server closes just as a POST goes out could not be retried (the
    server's side is tested live: tests/e2e/test_server.py)."""
    assert server.KEEPALIVE_SECONDS > service_client.KEEPALIVE_SECONDS
    assert httpx.Limits().keepalive_expiry < server.KEEPALIVE_SECONDS
    assert server.KEEPALIVE_SECONDS < server.GRACEFUL_SECONDS
    command = server_command(ROOT / "product", port=8002, threads=4)
    assert command[command.index("--threads") + 1] == "4"


def test_the_service_contract_is_all_in_its_class():
    """A contract test outside ServiceContract would run in no service."""
    module = ast.parse((ROOT / "common/shop_common/testing/service_contract.py").read_text())
    loose = [
        node.name
        for node in module.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name.lower().startswith("test")
    ]
    assert not loose, f"move into ServiceContract: {loose}"


@pytest.mark.parametrize(
    "folder", ["common", *(service.folder for service in SERVICES)], ids=lambda f: f
)
def test_every_service_runs_the_service_contract(folder):
    subclasses = [
        path
        for path in (ROOT / folder).rglob("test_*.py")
        if re.search(r"^class Test\w*\(ServiceContract\):", path.read_text(), re.MULTILINE)
    ]
    assert subclasses, f"{folder}: add class TestServiceContract(ServiceContract) to its tests"
