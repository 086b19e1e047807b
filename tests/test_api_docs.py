"""docs/api/ holds each service's OpenAPI schema as the code produces it (`make schema`): the public
one, and the /internal/ endpoints apart (<service>.internal.yaml), which the public one leaves out."""

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
    internal = ["--custom-settings", "shop_common.schema.INTERNAL_SCHEMA"]
    running = {
        name: subprocess.Popen(  # noqa: S603 (a fixed command line)
            [
                sys.executable,
                "manage.py",
                "spectacular",
                "--format",
                "openapi",
                "--validate",
                "--fail-on-warn",
                *extra,
            ],
            cwd=ROOT / service.folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for service in SERVICES
        for name, extra in (
            (f"{service.folder}.yaml", []),
            (f"{service.folder}.internal.yaml", internal),
        )
    }
    schemas = {}
    for folder, process in running.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"{folder}: schema warnings or errors:\n{err}"
        schemas[folder] = out
    return schemas


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_committed_schema_matches_the_code(generated, service):
    committed = (ROOT / "docs" / "api" / f"{service.folder}.yaml").read_text()

    assert committed == generated[f"{service.folder}.yaml"], "run `make schema postman` and commit"
    assert "/internal/" not in committed


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_the_internal_endpoints_are_documented_apart(generated, service):
    name = f"{service.folder}.internal.yaml"
    committed = ROOT / "docs" / "api" / name
    has_internal = "\n  /internal/" in generated[name]

    assert committed.exists() == has_internal, "run `make schema postman` and commit the result"
    if has_internal:
        assert committed.read_text() == generated[name], "run `make schema postman` and commit"
