import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_first_run_writes_env_with_a_fresh_secret_and_private_mode(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env.example")
    ensure_env = load_script("ensure_env").ensure_env

    generated = ensure_env(tmp_path)

    assert {
        "SECRET_KEY",
        "JWT_SIGNING_KEY",
        "SERVICE_TOKEN_SIGNING_KEY",
        "ORDER_CLIENT_SECRET",
    } <= set(generated)
    written = (tmp_path / ".env").read_text()
    for name in generated:
        (line,) = [line for line in written.splitlines() if line.startswith(f"{name}=")]
        assert len(line) > len(name) + 40
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0


def test_a_later_run_keeps_every_value_and_adds_what_is_missing(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env.example")
    (tmp_path / ".env").write_text(
        "SECRET_KEY=mine\nDEBUG=True\nSTRIPE_API_BASE=\nJWT_SIGNING_KEY=\n"
    )
    ensure_env = load_script("ensure_env").ensure_env

    added = ensure_env(tmp_path)
    after_first = (tmp_path / ".env").read_text()

    assert {"JWT_SIGNING_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_KEY"} <= set(added)
    assert "SECRET_KEY" not in added
    assert "STRIPE_API_BASE" not in added  # set (to empty: real Stripe) on purpose
    assert after_first.startswith("SECRET_KEY=mine\nDEBUG=True\nSTRIPE_API_BASE=\n")
    assert "STRIPE_SECRET_KEY=sk_test_sandbox\n" in after_first
    assert (
        len(next(line for line in after_first.splitlines() if line.startswith("JWT_SIGNING_KEY=")))
        > 40
    )
    assert ensure_env(tmp_path) == []
    assert (tmp_path / ".env").read_text() == after_first


def test_two_first_runs_get_different_secrets(tmp_path):
    ensure_env = load_script("ensure_env").ensure_env
    secrets = set()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(ROOT / ".env.example", tmp_path / name / ".env.example")
        ensure_env(tmp_path / name)
        secrets.add((tmp_path / name / ".env").read_text())
    assert len(secrets) == 2


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_every_service_starts_with_debug_off_on_the_env_make_run_writes(tmp_path, service):
    """What `make run` does on a clean clone: .env from .env.example, then each service's settings."""
    shutil.copy(ROOT / ".env.example", tmp_path / ".env.example")
    load_script("ensure_env").ensure_env(tmp_path)
    own = {"DOTENV_DIR": str(tmp_path), "PATH": os.environ["PATH"]}

    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT / service.folder,
        env=own,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]


def test_ci_writes_make_runs_env_before_it_tests():
    """The README's order, so that no test can come to depend on the absence of `.env`."""
    steps = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    writes = next(i for i, line in enumerate(steps) if "scripts/ensure_env.py" in line)
    tests = next(i for i, line in enumerate(steps) if line.startswith("exec make test"))

    assert writes < tests
    assert not steps[writes].lstrip().startswith("#")


@pytest.mark.skipif(
    not shutil.which("mariadbd", path=f"{os.environ['PATH']}:/usr/sbin"),
    reason="no mariadbd (Debian's mariadb-server)",
)
def test_the_private_mariadb_starts_as_the_readme_says_and_stops(tmp_path):
    import MySQLdb

    from shop_common.testing.stack import free_port

    folder, port = tmp_path / "mariadb", str(free_port())
    # A user's shell: no /usr/sbin on the PATH, no DB_* set; the system my.cnf is still there.
    shell = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}

    def script(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 (our own script, fixed arguments)
            [sys.executable, "scripts/mariadb.py", *args, "--dir", str(folder), "--port", port],
            cwd=ROOT,
            env=shell,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert 'eval "$(python3 scripts/mariadb.py start)"' in (ROOT / "README.md").read_text()
    started = script("start")
    try:
        assert started.returncode == 0, started.stderr
        exported = dict(pair.split("=", 1) for pair in started.stdout.split()[1:])
        assert started.stdout.startswith("export ")
        assert exported == {
            "DB_ENGINE": "mysql",
            "DB_HOST": "127.0.0.1",
            "DB_PORT": port,
            "DB_USER": "root",
            "DB_PASSWORD": "",
        }
        assert script("start").returncode == 0  # a second start finds it running
        connection = MySQLdb.connect(host="127.0.0.1", port=int(port), user="root", password="")
        cursor = connection.cursor()
        cursor.execute("CREATE DATABASE shop_probe")
        cursor.execute("SELECT @@character_set_server, @@datadir")
        charset, datadir = cursor.fetchone()
        connection.close()
        assert charset == "utf8mb4"
        assert Path(datadir).resolve() == (folder / "data").resolve()
        assert script("status").returncode == 0
    finally:
        stopped = script("stop")
    assert stopped.stderr == "stopped\n"
    assert script("status").returncode == 1


def test_make_trace_prints_a_trace_as_a_tree_of_spans_with_durations(tmp_path):
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from shop_common.testing.stack import free_port
    from shop_common.testing.waiting import eventually

    port = free_port()

    def service(name: str) -> trace.Tracer:
        """A tracer that exports as the shop's service ``name`` does."""
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        exporter = OTLPSpanExporter(f"http://127.0.0.1:{port}/v1/traces")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        return provider.get_tracer("test")

    output = tmp_path / "trace.txt"
    with open(output, "wb") as sink:
        receiver = subprocess.Popen(  # noqa: S603 (our own script, fixed arguments)
            [sys.executable, "scripts/trace.py", "--port", str(port), "--quiet-seconds", "0.5"],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        eventually(output.read_text, lambda text: "Receiving" in text)
        checkout = service("integration").start_span("POST checkout/")
        inside = trace.set_span_in_context(checkout)
        service("order").start_span("POST orders/", context=inside).end()
        checkout.end()
        printed = eventually(output.read_text, lambda text: " ms\n" in text, timeout=30)
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)

    lines = printed.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("trace "))
    assert lines[header].startswith(f"trace {checkout.get_span_context().trace_id:032x}: 2 spans")
    assert lines[header + 1].split()[:3] == ["POST", "checkout/", "integration"]
    assert lines[header + 2].startswith("  POST orders/")
    assert lines[header + 2].split()[2] == "order"
    assert lines[header + 2].endswith(" ms")


def test_make_run_compiles_the_shops_code_once_before_its_processes_import_it(tmp_path):
    """Where PYTHONDONTWRITEBYTECODE is set, each service's process would otherwise compile every
    module of the shop again at every start."""
    prepare = load_script("prepare")
    view = tmp_path / "product" / "catalog" / "views.py"
    test = tmp_path / "product" / "catalog" / "tests" / "test_views.py"
    for source in (view, test):
        source.parent.mkdir(parents=True)
        source.write_text("ANSWER = 42\n")

    prepare.compile_code(tmp_path)

    assert list((view.parent / "__pycache__").glob("views.*.pyc"))
    assert not (test.parent / "__pycache__").exists(), "tests are not what the services import"
