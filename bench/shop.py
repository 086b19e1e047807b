"""The shop as `make run` starts it, for `make bench`: `scripts/ensure_env.py`, `scripts/prepare.py
--demo-data` and `scripts/start.py` (honcho and the Procfile: the same server command, workers,
threads and LOG_LEVEL as a person gets, the periodic jobs included), on free ports, with a `.env`
(DOTENV_DIR) and databases of its own. Its output goes to a pseudo-terminal that a thread reads and
keeps the tail of, as a terminal window would: the access lines cost what they cost in `make run`.
"""

import collections
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from shop_common.databases import drop_mysql_schemas, recreate_mysql_schemas
from shop_common.processes import GRANIAN
from shop_common.testing.stack import free_port
from shop_common.topology import (
    RAZORPAY_SANDBOX,
    SANDBOXES,
    SERVICES,
    SERVICES_BY_NAME,
    STRIPE_SANDBOX,
)

ROOT = Path(__file__).resolve().parent.parent


def mysql_settings() -> dict:
    """The MariaDB server from the environment (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD)."""
    return {
        "host": os.environ.get("DB_HOST", "127.0.0.1"),
        "port": int(os.environ.get("DB_PORT", "3306")),
        "user": os.environ.get("DB_USER", "root"),
        "password": os.environ.get("DB_PASSWORD", ""),
    }


class Shop:
    def __init__(
        self, workdir: Path, *, engine: str, redis_url: str = "", server: str = GRANIAN
    ) -> None:
        self.workdir = workdir
        self.server = server
        self.engine = engine
        self.redis_url = redis_url
        self.ports = {service.name: free_port() for service in SERVICES}
        for sandbox in SANDBOXES:
            self.ports[sandbox.name] = free_port()
        tag = secrets.token_hex(3)
        # SQLite: one file per service under the work directory (a prefix with a "/" is a path).
        # DB_SCHEMA_PREFIX keeps two checkouts' benchmarks apart on one MariaDB.
        self.prefix = (
            f"{os.environ.get('DB_SCHEMA_PREFIX', '')}bench_{tag}_"
            if engine == "mysql"
            else f"{workdir}/"
        )
        self.mysql = mysql_settings()
        self.env = {
            # What a person's shell has, plus the variables `make run` is told (tests/test_make_run.py
            # runs `make run` itself the same way).
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", str(workdir)),
            "DOTENV_DIR": str(workdir),
            "DB_ENGINE": engine,
            "DB_SCHEMA_PREFIX": self.prefix,
            **{f"DB_{key.upper()}": str(value) for key, value in self.mysql.items()},
            **{
                service.url_variable: f"http://127.0.0.1:{self.ports[service.name]}"
                for service in SERVICES
            },
            "STRIPE_API_BASE": self.url(STRIPE_SANDBOX.name),
            "RAZORPAY_API_BASE": self.url(RAZORPAY_SANDBOX.name),
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": f"bench-{tag}",
        }
        for passed in ("WEB_CONCURRENCY", "LOG_LEVEL", "TERM", "PYTHONPATH"):
            if passed in os.environ:
                self.env[passed] = os.environ[passed]
        self.process: subprocess.Popen | None = None
        self.output: collections.deque[str] = collections.deque(maxlen=200)
        self.lines_seen = 0

    @property
    def schemas(self) -> list[str]:
        return [f"{self.prefix}{service.schema}" for service in SERVICES]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def _script(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self, timeout: float = 180) -> None:
        if self.engine == "mysql":
            recreate_mysql_schemas(self.schemas, **self.mysql)
        self._script("scripts/ensure_env.py")
        self._script("scripts/prepare.py", "--demo-data")
        leader, follower = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "scripts/start.py", "--procfile", str(self.procfile())],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=follower,
            start_new_session=True,
        )
        os.close(follower)
        threading.Thread(target=self._read_terminal, args=(leader,), daemon=True).start()
        deadline = time.monotonic() + timeout
        for name in [*SERVICES_BY_NAME, *(sandbox.name for sandbox in SANDBOXES)]:
            path = "/health/"
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError("make run stopped:\n" + "".join(self.output))
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} did not answer:\n" + "".join(self.output))
                try:
                    if httpx.get(f"{self.url(name)}{path}", timeout=2).status_code < 500:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)

    def procfile(self) -> Path:
        """The Procfile, its services and sandboxes started under ``server``."""
        lines = (ROOT / "Procfile").read_text().splitlines()
        if self.server != GRANIAN:
            lines = [
                f"{line} --server {self.server}" if "scripts/serve.py " in line else line
                for line in lines
            ]
        path = self.workdir / "Procfile"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _read_terminal(self, leader: int) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the last process holding the terminal is gone
                break
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            self.lines_seen += len(lines)
            self.output.extend(line.decode(errors="replace") + "\n" for line in lines[-200:])
        os.close(leader)

    def server_pids(self, service: str) -> list[int]:
        """The processes of the server serving ``service`` (its main process first), for
        profiling."""
        port = self.ports[service]
        listing = subprocess.run(
            ["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True, check=True
        ).stdout
        rows = [line.split(None, 2) for line in listing.splitlines()]
        masters = [
            int(pid)
            for pid, _, args in rows
            if f"--port {port} " in f"{args} " or f"127.0.0.1:{port} " in f"{args} "
        ]
        master = min(masters)
        return [master] + [int(pid) for pid, ppid, _ in rows if int(ppid) == master]

    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                # honcho stops every process on SIGTERM as on Ctrl-C; SIGINT is ignored by
                # processes started in the background of a non-interactive shell.
                os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
        finally:
            if self.engine == "mysql":
                drop_mysql_schemas(self.schemas, **self.mysql)

    def new_customer_token(self, password: str = "a-long-enough-passphrase-7") -> str:  # noqa: S107
        """A new customer's access token (one no service has validated yet)."""
        email = f"customer-{secrets.token_hex(6)}@shop.test"
        users = self.url("user")
        httpx.post(
            f"{users}/auth/signup/", json={"email": email, "password": password}, timeout=30
        ).raise_for_status()
        login = httpx.post(
            f"{users}/auth/login/", json={"email": email, "password": password}, timeout=30
        )
        login.raise_for_status()
        return login.json()["access"]
