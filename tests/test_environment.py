"""No developer configuration reaches a test: neither a `.env` (`make run` writes one) nor a shop
variable exported in the shell changes what the suites' settings hold
(shop_common.testing.environment). `.ci/run` writes `make run`'s `.env` before `make test` for
the whole suite; this checks the mechanism on its own, in seconds."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from shop_common.testing.environment import stack_environment
from shop_common.testing.stack import Stack, free_port
from shop_common.topology import SERVICES, SERVICES_BY_NAME

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
    from django.conf import settings


    def test_the_settings_hold_the_defaults():
        assert settings.METRICS_TOKEN == ""
        assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
        assert settings.SERVICE_URLS["user"] == "http://127.0.0.1:8001"
"""


def test_a_unit_suite_reads_no_dotenv_and_no_exported_shop_variable(tmp_path):
    developer = tmp_path / "developer"
    developer.mkdir()
    (developer / ".env").write_text(
        "METRICS_TOKEN=from-the-dotenv\nREDIS_URL=redis://127.0.0.1:1/0\n"
    )
    probe = tmp_path / "test_probe.py"
    probe.write_text(textwrap.dedent(PROBE))
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        # Where the services would look for the developer's .env, and what they exported.
        "DOTENV_DIR": str(developer),
        "METRICS_TOKEN": "exported",
        "USER_SERVICE_URL": "http://127.0.0.1:1",
        "DB_ENGINE": "sqlite",
    }
    # The product suite's pytest, as `make test` runs it, on the probe above.
    completed = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
            "-p",
            "no:cacheprovider",
            "-q",
            str(probe),
        ],
        cwd=ROOT / "product",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


def test_a_stack_gets_the_database_choice_and_only_what_the_test_names(monkeypatch, tmp_path):
    monkeypatch.setenv("METRICS_TOKEN", "exported")
    monkeypatch.setenv("DB_ENGINE", "sqlite")
    (tmp_path / ".env").write_text("METRICS_TOKEN=from-a-dotenv\n")
    workdir = tmp_path / "stack"
    workdir.mkdir()
    stack = Stack(
        repo_root=ROOT,
        workdir=workdir,
        services=SERVICES,
        base_env=stack_environment(LOG_LEVEL="WARNING"),
    )

    env = stack.service_env(
        SERVICES_BY_NAME["product"], {service.name: free_port() for service in SERVICES}
    )

    assert "METRICS_TOKEN" not in env
    assert env["LOG_LEVEL"] == "WARNING"
    assert env["DB_ENGINE"] == "sqlite"
    # The services' search for a .env ends in the stack's folder, at an empty one.
    assert (Path(env["DOTENV_DIR"]) / ".env").read_text() == ""


def test_a_stacks_settings_are_what_its_services_run_with(tmp_path):
    stack = Stack(
        repo_root=ROOT,
        workdir=tmp_path,
        services=(SERVICES_BY_NAME["product"],),
        base_env=stack_environment(),
        settings={"CATALOG_CACHE_TTL": 0, "SERVICE_HTTP_READ_TIMEOUT": 30.0},
    )
    stack.write_settings_module()
    env = stack.service_env(SERVICES_BY_NAME["product"], {"product": free_port()})

    read = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; "
            "print(settings.CATALOG_CACHE_TTL, settings.SERVICE_HTTP_READ_TIMEOUT, "
            "settings.SERVICE_NAME)",
        ],
        cwd=ROOT / "product",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    # The test's values, over the service's own settings, which are all still there.
    assert read.stdout.split() == ["0", "30.0", "product"]
