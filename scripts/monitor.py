#!/usr/bin/env python
"""`make monitor`: Debian's Prometheus scraping the six services that `make run` started, with the
shop's alerting rules (deploy/prometheus/alerts.yml), at http://127.0.0.1:9090 (PROMETHEUS_PORT).

The services' URLs and METRICS_TOKEN come from the environment, then `.env` (as for `make run`);
the configuration goes to var/prometheus/ (the token to a file only its owner reads) and the
time series to var/prometheus/data/. docs/observability.md.
"""

import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
# Where make monitor's Prometheus listens on 127.0.0.1.
PROMETHEUS_PORT = 9090


def prometheus_config(
    targets: Mapping[str, str],
    *,
    token_file: Path | None,
    rules: Path = RULES,
    interval: str = "15s",
) -> dict:
    """One scrape job per service (``job`` is its name, which the alerting rules group by), each
    reading ``<url>/metrics`` with the metrics token."""
    jobs = []
    for name, url in targets.items():
        scheme, _, host = url.rstrip("/").partition("://")
        job = {
            "job_name": name,
            "scheme": scheme,
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [host], "labels": {"service": name}}],
        }
        if token_file is not None:
            job["authorization"] = {"type": "Bearer", "credentials_file": str(token_file)}
        jobs.append(job)
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(rules)],
        "scrape_configs": jobs,
    }


def write_config(folder: Path, targets: Mapping[str, str], token: str, **options: str) -> Path:
    """Writes ``prometheus.yml`` (JSON, which is YAML too) and the token file into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    token_file = None
    if token:
        token_file = folder / "metrics-token"
        token_file.touch(mode=0o600)
        token_file.chmod(0o600)
        token_file.write_text(token)
    config = folder / "prometheus.yml"
    config.write_text(json.dumps(prometheus_config(targets, token_file=token_file, **options)))
    return config


def prometheus_command(config: Path, data: Path, *, listen: str) -> list[str]:
    return [
        shutil.which("prometheus") or "prometheus",
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address={listen}",
        "--storage.tsdb.retention.time=7d",
    ]


def main() -> None:
    sys.path.insert(0, str(ROOT / "common"))
    from shop_common.dotenv import with_dotenv
    from shop_common.topology import SERVICES

    if shutil.which("prometheus") is None:
        sys.exit("No prometheus on the PATH: run scripts/install-system-deps.sh monitor.")
    env = with_dotenv(ROOT)
    targets = {s.name: env.get(s.url_variable) or s.default_url for s in SERVICES}
    folder = ROOT / "var" / "prometheus"
    config = write_config(folder, targets, env.get("METRICS_TOKEN", ""))
    listen = f"127.0.0.1:{PROMETHEUS_PORT}"
    print(f"Prometheus on http://{listen}/ scraping {', '.join(targets.values())}", flush=True)
    command = prometheus_command(config, folder / "data", listen=listen)
    os.execv(command[0], command)  # noqa: S606 (a fixed argv, no shell)


if __name__ == "__main__":
    main()
