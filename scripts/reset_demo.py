#!/usr/bin/env python
"""`make reset-demo`: every service's database back to the demo data alone (the demo users and
catalog as `make run` first made them). SQLite files are deleted, MySQL schemas dropped and created
again, then migrated and seeded. .venv, .env and its secrets are left alone. Refuses while the
services answer: stop `make run` first."""

import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from shop_common.databases import recreate_mysql_schemas
from shop_common.dotenv import with_dotenv
from shop_common.processes import prepare_databases
from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent


def running(env: dict[str, str]) -> list[str]:
    up = []
    for service in SERVICES:
        url = env.get(service.url_variable, service.default_url).rstrip("/")
        try:
            httpx.get(f"{url}/health/", timeout=0.5)
        except httpx.TransportError:
            continue
        up.append(f"{service.name} ({urlsplit(url).netloc})")
    return up


def main() -> None:
    env = with_dotenv(ROOT)
    if up := running(env):
        sys.exit(f"Stop make run first; these answer: {', '.join(up)}.")
    if env.get("DB_NAME"):
        sys.exit("DB_NAME is set: it names one database for all six; unset it to reset the demo.")
    prefix = env.get("DB_SCHEMA_PREFIX", "")
    if env.get("DB_ENGINE", "sqlite").strip().lower() == "mysql":
        names = [f"{prefix}{service.schema}" for service in SERVICES]
        recreate_mysql_schemas(
            names,
            host=env.get("DB_HOST", "127.0.0.1"),
            port=int(env.get("DB_PORT", "3306")),
            user=env.get("DB_USER", "root"),
            password=env.get("DB_PASSWORD", ""),
        )
        sys.stdout.write(f"Emptied MySQL schemas {', '.join(names)}\n")
    else:
        for service in SERVICES:
            # Where shop_common.conf puts it, with SQLite's -wal and -shm beside it.
            database = ROOT / service.folder / "var" / f"{prefix}{service.schema}.sqlite3"
            for path in (database, *database.parent.glob(f"{database.name}-*")):
                path.unlink(missing_ok=True)
        sys.stdout.write("Deleted the SQLite databases\n")
    try:
        prepare_databases([(ROOT / service.folder, env) for service in SERVICES], demo_data=True)
    except RuntimeError as exc:
        sys.exit(str(exc))
    sys.stdout.write("Demo data loaded; make run starts the shop on it.\n")


if __name__ == "__main__":
    main()
