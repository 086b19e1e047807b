from collections.abc import Iterable
from typing import Any


class DatabaseServerUnreachable(Exception):
    pass


def server_connection(
    *, host: str, port: int, user: str, password: str, purpose: str, connect_timeout: int = 5
) -> Any:
    """A connection to the MariaDB server itself (no schema), for ``purpose`` (named when it fails)."""
    import MySQLdb

    try:
        return MySQLdb.connect(
            host=host or "127.0.0.1",
            port=int(port or 3306),
            user=user,
            password=password,
            connect_timeout=connect_timeout,
            charset="utf8mb4",
        )
    except MySQLdb.OperationalError as exc:
        raise DatabaseServerUnreachable(
            f"Cannot reach the database server for {purpose}: {exc}"
        ) from exc


def _create(cursor: Any, name: str) -> None:
    quoted = name.replace("`", "``")
    cursor.execute(
        f"CREATE DATABASE IF NOT EXISTS `{quoted}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )


def create_mysql_schema(settings_dict: dict[str, Any]) -> bool:
    """Creates the schema named by a Django MySQL ``settings_dict`` (utf8mb4); False if it existed."""
    name = settings_dict["NAME"]
    server = server_connection(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"],
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"],
        purpose=name,
        connect_timeout=int(settings_dict.get("OPTIONS", {}).get("connect_timeout", 5)),
    )
    try:
        cursor = server.cursor()
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        if cursor.fetchone():
            return False
        _create(cursor, name)
        return True
    finally:
        server.close()


def recreate_mysql_schemas(
    names: Iterable[str], *, host: str, port: int, user: str, password: str
) -> None:
    """Fresh, empty schemas (dropped first if they exist), for throwaway stacks."""
    drop_mysql_schemas(names, host=host, port=port, user=user, password=password, recreate=True)


def drop_mysql_schemas(
    names: Iterable[str], *, host: str, port: int, user: str, password: str, recreate: bool = False
) -> None:
    """Drops the schemas that exist of ``names`` (a test's throwaway shop); with ``recreate``,
    creates each again, empty."""
    names = list(names)
    server = server_connection(
        host=host, port=port, user=user, password=password, purpose=", ".join(names)
    )
    try:
        cursor = server.cursor()
        for name in names:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name.replace('`', '``')}`")
            if recreate:
                _create(cursor, name)
    finally:
        server.close()
