"""Tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT) costs nothing: OpenTelemetry is not even imported.
Tracing on is proven end to end in tests/e2e/test_observability.py."""

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
import django
django.setup()
from django.conf import settings
from django.test import Client
Client().get("/health/")
print(sorted(name for name in sys.modules if name.startswith("opentelemetry")))
print([m for m in settings.MIDDLEWARE if "opentelemetry" in m])
"""


def test_with_no_endpoint_opentelemetry_is_not_imported_and_adds_no_middleware():
    result = subprocess.run(  # noqa: S603 (our own interpreter, a fixed script)
        [sys.executable, "-c", SCRIPT],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.splitlines() == ["[]", "[]"], result.stdout + result.stderr
