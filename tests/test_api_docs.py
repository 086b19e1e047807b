"""docs/api/ holds each service's OpenAPI schema as the code produces it (`make schema`)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    # As `make schema` builds them: development mode, SQLite (integer bounds depend on the backend).
    env = {**os.environ, "DEBUG": "True", "DB_ENGINE": "sqlite"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DB_NAME", None)
    running = {
        service.folder: subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "spectacular",
                "--format",
                "openapi",
                "--validate",
                "--fail-on-warn",
            ],
            cwd=ROOT / service.folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for service in SERVICES
    }
    schemas = {}
    for folder, process in running.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"{folder}: schema warnings or errors:\n{err}"
        schemas[folder] = out
    return schemas


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_committed_schema_matches_the_code(generated, service):
    committed = (ROOT / "docs" / "api" / f"{service.folder}.yaml").read_text()

    assert committed == generated[service.folder], "run `make schema postman` and commit the result"
