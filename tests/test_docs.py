"""The pages people read name only what exists: every `make` target they show is in the Makefile,
every port on this machine is one the shop or its tools use, every path on a service's port is
one that service routes, and every Prometheus page is one that `make monitor`'s Prometheus serves."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from shop_common.testing.stack import free_port
from shop_common.testing.waiting import eventually
from shop_common.topology import SANDBOXES, SERVICES

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PROMETHEUS_PORT = 9090
# Ports on this machine the pages may name besides the services' and the sandboxes', and why.
TOOL_PORTS = {
    3306: "the MariaDB CI uses",
    3307: "scripts/mariadb.py's MariaDB",
    4318: "make trace's OTLP receiver",
    6379: "Redis",
    PROMETHEUS_PORT: "make monitor's Prometheus",
    9001: "the README's second make run beside the first",
}
URL = re.compile(r"(?:https?://)?(?:127\.0\.0\.1|localhost):(\d+)(/[^\s)`\"'<>,;]*)?")
CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)


def urls() -> list[tuple[str, int, str]]:
    """(page, port, path) of every address on this machine the pages name."""
    found = []
    for page in PAGES:
        for port, path in URL.findall(page.read_text()):
            # A bare address names the service; a path, one of its pages.
            found.append((page.relative_to(ROOT).as_posix(), int(port), path))
    return found


def test_every_make_target_a_page_shows_exists():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    shown = {
        (page.relative_to(ROOT).as_posix(), target)
        for page in PAGES
        for code in CODE.findall(page.read_text())
        for target in re.findall(r"\bmake ([a-z][a-z-]*)", code)
    }

    unknown = sorted(f"{page}: make {target}" for page, target in shown if target not in targets)
    assert shown
    assert not unknown, unknown


def test_every_port_a_page_names_is_served():
    served = {service.port for service in (*SERVICES, *SANDBOXES)} | set(TOOL_PORTS)

    unknown = sorted({f"{page}: :{port}" for page, port, _ in urls() if port not in served})
    assert not unknown, unknown


def route(path: str) -> str:
    """A documented path as one request would send it: placeholders filled, no query."""
    path = path.split("?")[0].split("#")[0].rstrip(".")
    return re.sub(r"\{[^}]+\}|\$[A-Z_]+", "1", path)


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_every_path_a_page_names_on_a_service_is_routed_there(service):
    paths = sorted({route(path) for _, port, path in urls() if port == service.port and path})
    if not paths:
        pytest.skip(f"no page names a path of the {service.display_name}")
    # Django's own resolver, in that service's settings; both spellings of a path are served.
    code = (
        "import sys, django\n"
        "django.setup()\n"
        "from django.urls import Resolver404, resolve\n"
        "for path in sys.argv[1:]:\n"
        "    for spelling in (path, path.rstrip('/') + '/', path.rstrip('/') or '/'):\n"
        "        try:\n"
        "            resolve(spelling)\n"
        "            break\n"
        "        except Resolver404:\n"
        "            pass\n"
        "    else:\n"
        "        print(path)\n"
    )
    resolved = subprocess.run(  # noqa: S603 (our own interpreter, a fixed script)
        [sys.executable, "-c", code, *paths],
        cwd=ROOT / service.folder,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "True"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert resolved.returncode == 0, resolved.stderr[-2000:]
    assert resolved.stdout.split() == [], f"{service.name} routes none of these"


@pytest.mark.skipif(not shutil.which("prometheus"), reason="no prometheus (Debian's package)")
def test_every_prometheus_page_a_page_names_is_served(tmp_path):
    pages = sorted({route(path) for _, port, path in urls() if port == PROMETHEUS_PORT and path})
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\nscrape_configs: []\n")
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (Debian's prometheus, fixed arguments)
        [
            shutil.which("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        assert eventually(ready, bool, timeout=60), "prometheus did not start"
        answers = {
            page: httpx.get(f"http://127.0.0.1:{port}{page}", follow_redirects=True).status_code
            for page in pages
        }
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert pages
    assert {page: code for page, code in answers.items() if code != 200} == {}
