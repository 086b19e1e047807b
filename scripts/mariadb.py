#!/usr/bin/env python3
"""A private MariaDB for the shop: its own data folder (var/mariadb/), port (3307) and socket, run
as you, with no root and no system configuration (`--no-defaults`: Debian's /etc/mysql/my.cnf
would point it at the system's folders). Only Debian's `mariadb-server` package is needed.

    eval "$(python3 scripts/mariadb.py start)"   # first time: creates var/mariadb/; prints exports
    make run                                     # or make test: both now on this MariaDB
    python3 scripts/mariadb.py stop

`start` prints the variables that point the shop at it (DB_ENGINE=mysql DB_HOST DB_PORT DB_USER
DB_PASSWORD): root, no password, 127.0.0.1 only. The test suites start one of their own the same way
(shop_common.testing.mariadb) when they need MariaDB and none is configured.

Standard library only: it runs before `make` has made .venv.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT / "var" / "mariadb"
DEFAULT_PORT = 3307


class MariaDBError(RuntimeError):
    pass


def program(*names: str) -> str:
    # Debian puts mariadbd in /usr/sbin, which a user's PATH often lacks.
    path = f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/local/sbin"
    for name in names:
        found = shutil.which(name, path=path)
        if found:
            return found
    raise MariaDBError(
        f"{names[0]} not found: install Debian's mariadb-server (sudo apt-get install mariadb-server)"
    )


def paths(folder: Path) -> dict[str, Path]:
    return {
        "data": folder / "data",
        "socket": folder / "mariadb.sock",
        "pid": folder / "mariadb.pid",
        "log": folder / "error.log",
    }


def serving(port: int, timeout: float = 1.0) -> bool:
    """A MariaDB answers on 127.0.0.1:``port``: its greeting (protocol version 10) comes first."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            greeting = connection.recv(5)
    except OSError:
        return False
    return len(greeting) == 5 and greeting[4] == 10


def running_pid(folder: Path) -> int | None:
    try:
        pid = int(paths(folder)["pid"].read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def initialise(folder: Path) -> None:
    data = paths(folder)["data"]
    if (data / "mysql").is_dir():
        return
    data.mkdir(parents=True, exist_ok=True)
    command = [
        program("mariadb-install-db", "mysql_install_db"),
        "--no-defaults",
        f"--datadir={data}",
        # root with no password, from this machine only (the server listens on 127.0.0.1).
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
    ]
    if os.geteuid() == 0:
        command.append("--user=root")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MariaDBError(f"mariadb-install-db failed:\n{done.stdout}\n{done.stderr}")


def start(folder: Path, port: int, timeout: float = 60.0) -> subprocess.Popen | None:
    """Starts the server in the background unless it already runs; returns the new process."""
    folder = folder.resolve()
    if running_pid(folder) and serving(port):
        return None
    if serving(port):
        raise MariaDBError(f"port {port} is taken by another server: choose another with --port")
    initialise(folder)
    where = paths(folder)
    command = [
        program("mariadbd", "mysqld"),
        "--no-defaults",
        f"--datadir={where['data']}",
        f"--socket={where['socket']}",
        f"--pid-file={where['pid']}",
        f"--log-error={where['log']}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        # What Debian's configuration gives the system server, and what the schemas are made in.
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
        "--skip-log-bin",
    ]
    if os.geteuid() == 0:
        command.append("--user=root")  # mariadbd refuses to run as root without it
    server = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while not serving(port):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            log = where["log"].read_text(errors="replace")[-3000:] if where["log"].exists() else ""
            raise MariaDBError(f"MariaDB did not start on port {port}:\n{log}")
        time.sleep(0.1)
    return server


def stop(folder: Path, timeout: float = 60.0) -> bool:
    """Stops the server of ``folder``; False when none was running."""
    pid = running_pid(folder.resolve())
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while running_pid(folder.resolve()) == pid and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def variables(port: int) -> dict[str, str]:
    """The shop's settings for this server."""
    return {
        "DB_ENGINE": "mysql",
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(port),
        "DB_USER": "root",
        "DB_PASSWORD": "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_FOLDER, help="data, socket, pid, log")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args()
    try:
        if args.action == "start":
            start(args.dir, args.port)
            exports = " ".join(f"{name}={value}" for name, value in variables(args.port).items())
            sys.stdout.write(f"export {exports}\n")
            sys.stderr.write(f"MariaDB on 127.0.0.1:{args.port} (data in {args.dir}).\n")
        elif args.action == "stop":
            sys.stderr.write("stopped\n" if stop(args.dir) else "not running\n")
        else:
            up = running_pid(args.dir.resolve()) is not None and serving(args.port)
            sys.stdout.write(f"{'running' if up else 'not running'} on 127.0.0.1:{args.port}\n")
            return 0 if up else 1
    except MariaDBError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
