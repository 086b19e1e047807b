"""The alerting rules (deploy/prometheus/alerts.yml) and make monitor's configuration, checked by
Debian's promtool (scripts/install-system-deps.sh monitor). docs/observability.md."""

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="No promtool: scripts/install-system-deps.sh monitor could not install Debian's "
    "prometheus package (make test says why).",
)


def promtool(*args: str, cwd: Path = RULES) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (promtool, fixed arguments)
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


@needs_promtool
def test_alerting_rules_are_valid():
    result = promtool("check", "rules", "alerts.yml")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 9 rules found" in result.stdout


@needs_promtool
def test_each_alert_fires_on_its_series_and_not_on_the_others():
    result = promtool("test", "rules", "alerts-test.yml")

    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_make_monitors_configuration_is_valid_and_scrapes_six_services(tmp_path):
    spec = importlib.util.spec_from_file_location("monitor", ROOT / "scripts" / "monitor.py")
    monitor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(monitor)

    config = monitor.write_config(
        tmp_path, {s.name: s.default_url for s in SERVICES}, "a-metrics-token"
    )
    result = promtool("check", "config", str(config), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "metrics-token").stat().st_mode & 0o077 == 0
    assert "a-metrics-token" not in config.read_text()
