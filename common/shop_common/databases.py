from typing import Any


class DatabaseServerUnreachable(Exception):
    pass


def create_mysql_schema(settings_dict: dict[str, Any]) -> bool:
    """Creates the schema named by a Django MySQL ``settings_dict`` (utf8mb4); False if it existed."""
    import MySQLdb

    name = settings_dict["NAME"]
    try:
        server = MySQLdb.connect(
            host=settings_dict["HOST"] or "127.0.0.1",
            port=int(settings_dict["PORT"] or 3306),
            user=settings_dict["USER"],
            password=settings_dict["PASSWORD"],
            connect_timeout=int(settings_dict.get("OPTIONS", {}).get("connect_timeout", 5)),
            charset="utf8mb4",
        )
    except MySQLdb.OperationalError as exc:
        raise DatabaseServerUnreachable(
            f"Cannot reach the database server for {name}: {exc}"
        ) from exc
    try:
        cursor = server.cursor()
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        if cursor.fetchone():
            return False
        quoted = name.replace("`", "``")
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS `{quoted}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        return True
    finally:
        server.close()
