import pytest
from django.db import connection

from shop_common.databases import DatabaseServerUnreachable, create_mysql_schema
from shop_common.testing.stack import free_port

needs_mysql = pytest.mark.skipif(connection.vendor != "mysql", reason="needs DB_ENGINE=mysql")


@needs_mysql
@pytest.mark.django_db
def test_missing_schema_is_created_in_utf8mb4_once():
    settings_dict = {**connection.settings_dict, "NAME": "shop_common_ensure_test"}
    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS shop_common_ensure_test")
    try:
        assert create_mysql_schema(settings_dict) is True
        assert create_mysql_schema(settings_dict) is False
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT default_character_set_name FROM information_schema.schemata "
                "WHERE schema_name = 'shop_common_ensure_test'"
            )
            assert cursor.fetchone() == ("utf8mb4",)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP DATABASE IF EXISTS shop_common_ensure_test")


def test_unreachable_server_is_a_clear_error():
    settings_dict = {
        "NAME": "x",
        "HOST": "127.0.0.1",
        "PORT": free_port(),
        "USER": "root",
        "PASSWORD": "",
        "OPTIONS": {"connect_timeout": 1},
    }

    with pytest.raises(DatabaseServerUnreachable, match="Cannot reach the database server for x"):
        create_mysql_schema(settings_dict)
