"""`make run` itself, honcho included, with DB_ENGINE=mysql exported: every service must come up on
MySQL although the `.env` that `make run` writes says sqlite (exported variables win over `.env`),
and the demo STAFF account it prints logs in to both staff admins (catalog and payments).

It runs beside anything else on the machine: its own `.env` (DOTENV_DIR), its own schemas
(DB_SCHEMA_PREFIX) and free ports (the *_SERVICE_URL variables). Its MariaDB is the configured one,
or one of the session's own (the `mariadb` fixture).
"""

import os
import secrets
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from shop_common.databases import drop_mysql_schemas
from shop_common.demo import DEMO_LOGINS
from shop_common.testing.stack import free_port
from shop_common.testing.waiting import eventually
from shop_common.topology import RAZORPAY_SANDBOX, SERVICES, STRIPE_SANDBOX
from tests.e2e.helpers import csrf_token

ROOT = Path(__file__).resolve().parent.parent


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_serves_every_service_on_the_exported_mysql(tmp_path, mariadb):
    prefix = f"mkrun_{secrets.token_hex(3)}_"
    ports = {service.name: free_port() for service in SERVICES}
    sandbox = f"http://127.0.0.1:{free_port()}"
    razorpay_sandbox = f"http://127.0.0.1:{free_port()}"
    env = {
        # Only what a person's shell would have: nothing of the test runner's own environment
        # beyond PATH and HOME, so `.env` and the exported variables are all there is.
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DOTENV_DIR": str(tmp_path),
        **mariadb,
        "DB_SCHEMA_PREFIX": prefix,
        **{service.url_variable: f"http://127.0.0.1:{ports[service.name]}" for service in SERVICES},
        "STRIPE_API_BASE": sandbox,
        "RAZORPAY_API_BASE": razorpay_sandbox,
        "WEB_CONCURRENCY": "1",
    }
    log = tmp_path / "make-run.log"
    with open(log, "wb") as output:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run"],  # noqa: S607 (make from the PATH, as a person runs it)
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert "DB_ENGINE=sqlite" in wait_for_env(tmp_path / ".env", make)
        output = eventually(
            lambda: log.read_text(errors="replace"),
            lambda text: "All six services are up." in text or make.poll() is not None,
            timeout=240,
            interval=0.5,
        )
        assert "All six services are up." in output, output[-6000:]
        for service in SERVICES:
            health = httpx.get(f"http://127.0.0.1:{ports[service.name]}/health/").json()
            assert health["database"] == {"status": "ok", "vendor": "mysql"}, health
        assert httpx.get(f"{sandbox}/pay/cs_test_0").status_code == 404  # the sandbox answers
        assert httpx.get(f"{razorpay_sandbox}/l/plink_0").status_code == 404  # and Razorpay's
        for name, page in [
            ("product", "/admin/catalog/product/"),
            ("payment", "/admin/payments/refund/"),
        ]:
            opened = staff_admin_page(f"http://127.0.0.1:{ports[name]}", page)
            assert opened.status_code == 200, f"{name}: {opened.status_code} {opened.text[:300]}"
    finally:
        # Ctrl-C in the terminal: SIGINT to the whole foreground group; honcho stops the rest.
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(timeout=40)
        finally:
            if group_alive(make.pid):
                os.killpg(make.pid, signal.SIGKILL)
            drop_mysql_schemas(
                [f"{prefix}{service.schema}" for service in SERVICES],
                host=mariadb["DB_HOST"],
                port=int(mariadb["DB_PORT"]),
                user=mariadb["DB_USER"],
                password=mariadb["DB_PASSWORD"],
            )
    assert not eventually(lambda: group_alive(make.pid), lambda alive: not alive, timeout=15), (
        "make run left processes behind"
    )
    for service in SERVICES:
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{ports[service.name]}/health/", timeout=1)
    assert STRIPE_SANDBOX.name in log.read_text(errors="replace")
    assert RAZORPAY_SANDBOX.name in log.read_text(errors="replace")


def staff_admin_page(base_url: str, page: str) -> httpx.Response:
    """``page`` of a staff admin, after the demo STAFF account logged in as a browser does."""
    email, password = DEMO_LOGINS["STAFF"]
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        login = browser.get(f"/admin/login/?next={page}")
        browser.post(
            f"/admin/login/?next={page}",
            data={
                "csrfmiddlewaretoken": csrf_token(login.text),
                "username": email,
                "password": password,
            },
        )
        return browser.get(page)


def wait_for_env(path: Path, make: subprocess.Popen, timeout: float = 60) -> str:
    """The ``.env`` that ``make run`` writes, once written whole (it ends with a newline)."""
    text = eventually(
        lambda: path.read_text() if path.exists() else "",
        lambda text: text.endswith("\n") or make.poll() is not None,
        timeout=timeout,
        interval=0.1,
    )
    assert text.endswith("\n"), "make run wrote no .env"
    return text


def dry_run(target: str) -> str:
    """The commands `make <target>` runs on a fresh clone (-B: as if nothing were installed)."""
    return subprocess.run(  # noqa: S603 (make, fixed arguments)
        ["make", "--no-print-directory", "-n", "-B", target],  # noqa: S607 (make from the PATH)
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def requirement_names(name: str) -> set[str]:
    """The packages a requirements file pins, with those of the files it includes (-r)."""
    names = set()
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            names |= requirement_names(line.removeprefix("-r ").strip())
        elif line:
            names.add(line.split("==")[0].lower())
    return names


def test_make_run_installs_what_running_needs_and_make_test_adds_the_test_tools():
    running = requirement_names("run.txt")
    testing = requirement_names("dev.txt")

    assert "-r requirements/run.txt" in dry_run("run")
    assert "requirements/dev.txt" not in dry_run("run")
    assert "-r requirements/dev.txt" in dry_run("test")
    assert requirement_names("runtime.txt") | {"honcho"} == running
    assert {"pytest", "ruff", "schemathesis", "selenium", "py-spy"} <= testing - running
