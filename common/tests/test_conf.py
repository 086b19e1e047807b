"""Settings come from the environment, with safe defaults for local use only."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from shop_common.conf import (
    StaffAdmin,
    cache_settings,
    database_settings,
    email_settings,
    environment,
    service_settings,
)

ALL_VARIABLES = (
    "DB_ENGINE",
    "DB_NAME",
    "DB_HOST",
    "DB_PORT",
    "DB_USER",
    "DB_PASSWORD",
    "DB_SCHEMA_PREFIX",
    # Set by shop_common.testing.environment for every suite; these tests read .env themselves.
    "DOTENV_DIR",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "PRODUCT_SERVICE_URL",
    "ALLOWED_HOSTS",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ALL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return environment(tmp_path)


def test_sqlite_is_the_default_with_wal_busy_timeout_and_immediate_transactions(
    clean_env, tmp_path
):
    db = database_settings(clean_env, base_dir=tmp_path, default_name="ecommerce_products")

    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == tmp_path / "var" / "ecommerce_products.sqlite3"
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert db["OPTIONS"]["timeout"] >= 5
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert (tmp_path / "var").is_dir()


def test_sqlite_db_name_may_be_a_path(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DB_NAME", str(tmp_path / "elsewhere" / "p.sqlite3"))

    db = database_settings(clean_env, base_dir=tmp_path, default_name="ecommerce_products")

    assert db["NAME"] == tmp_path / "elsewhere" / "p.sqlite3"


def test_mysql_from_the_db_variables_with_utf8mb4_and_strict_mode(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DB_ENGINE", "mysql")
    monkeypatch.setenv("DB_HOST", "db.internal")
    monkeypatch.setenv("DB_PORT", "3307")
    monkeypatch.setenv("DB_USER", "shop")
    monkeypatch.setenv("DB_PASSWORD", "pw")

    db = database_settings(clean_env, base_dir=tmp_path, default_name="ecommerce_orders")

    assert db["ENGINE"] == "django.db.backends.mysql"
    assert (db["NAME"], db["HOST"], db["PORT"], db["USER"], db["PASSWORD"]) == (
        "ecommerce_orders",
        "db.internal",
        "3307",
        "shop",
        "pw",
    )
    assert db["OPTIONS"]["charset"] == "utf8mb4"
    assert "STRICT_TRANS_TABLES" in db["OPTIONS"]["init_command"]
    assert db["TEST"]["CHARSET"] == "utf8mb4"


def test_db_name_overrides_the_services_schema(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DB_ENGINE", "mysql")
    monkeypatch.setenv("DB_NAME", "other_schema")

    assert (
        database_settings(clean_env, base_dir=tmp_path, default_name="x")["NAME"] == "other_schema"
    )


def test_unknown_db_engine_is_refused(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DB_ENGINE", "postgres")

    with pytest.raises(ImproperlyConfigured, match="DB_ENGINE"):
        database_settings(clean_env, base_dir=tmp_path, default_name="x")


def test_cache_is_local_memory_without_redis_url(clean_env):
    cache = cache_settings(clean_env, service_name="cart")["default"]

    assert cache["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_cache_is_the_resilient_redis_backend_with_redis_url(clean_env, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")

    cache = cache_settings(clean_env, service_name="cart")["default"]

    assert cache["BACKEND"] == "shop_common.cache.ResilientRedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/0"


def test_debug_is_off_unless_asked_and_then_a_missing_secret_is_refused(clean_env, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        service_settings(service="product", base_dir=tmp_path, apps=[])


def test_debug_on_allows_a_development_secret(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DEBUG", "True")

    result = service_settings(service="product", base_dir=tmp_path, apps=[])

    assert result["DEBUG"] is True
    assert result["SECRET_KEY"].startswith("django-insecure")


def test_a_dot_env_file_above_the_service_folder_is_read(clean_env, tmp_path):
    (tmp_path / ".env").write_text("SECRET_KEY=from-dot-env\nPRODUCT_SERVICE_URL=http://p:9/\n")
    service_dir = tmp_path / "cart"
    service_dir.mkdir()

    result = service_settings(service="cart", base_dir=service_dir, apps=["carts"])

    assert result["DEBUG"] is False
    assert result["SECRET_KEY"] == "from-dot-env"
    assert result["SERVICE_URLS"]["product"] == "http://p:9"
    assert result["SERVICE_URLS"]["user"] == "http://127.0.0.1:8001"
    assert result["INSTALLED_APPS"][-1] == "carts"


def test_the_environment_wins_over_dot_env(clean_env, monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("SECRET_KEY=from-dot-env\n")
    monkeypatch.setenv("SECRET_KEY", "from-environment")

    assert service_settings(service="cart", base_dir=Path(tmp_path), apps=[])["SECRET_KEY"] == (
        "from-environment"
    )


def test_admin_apps_only_where_asked(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "k")

    with_admin = service_settings(service="product", base_dir=tmp_path, apps=[], admin=True)
    without = service_settings(service="cart", base_dir=tmp_path, apps=[])

    assert "django.contrib.admin" in with_admin["INSTALLED_APPS"]
    assert "django.contrib.admin" not in without["INSTALLED_APPS"]
    assert "django.contrib.sessions.middleware.SessionMiddleware" not in without["MIDDLEWARE"]


def test_a_staff_admin_logs_in_through_the_user_service_and_follows_its_session(
    clean_env, monkeypatch, tmp_path
):
    monkeypatch.setenv("SECRET_KEY", "k")
    staff_admin = StaffAdmin(group="Payment staff", permissions={"payments": {"refund": ("view",)}})

    result = service_settings(
        service="payment",
        base_dir=tmp_path,
        apps=[],
        staff_admin=staff_admin,
        middleware=("own.Middleware",),
    )

    assert "django.contrib.admin" in result["INSTALLED_APPS"]
    assert result["AUTHENTICATION_BACKENDS"] == ["shop_common.staff_admin.UserServiceBackend"]
    middleware = result["MIDDLEWARE"]
    authentication = middleware.index("shop_common.edge.PageAuthenticationMiddleware")
    follows = middleware.index("shop_common.staff_admin.StaffSessionMiddleware")
    assert authentication < follows < middleware.index("own.Middleware")
    assert (
        result["STAFF_ADMIN_GROUP"],
        result["STAFF_ADMIN_PERMISSIONS"],
        result["STAFF_ADMIN_LOGIN_LABEL"],
    ) == ("Payment staff", {"payments": {"refund": ("view",)}}, "Email")
    plain = service_settings(service="user", base_dir=tmp_path, apps=[], admin=True)
    assert "AUTHENTICATION_BACKENDS" not in plain
    assert "shop_common.staff_admin.StaffSessionMiddleware" not in plain["MIDDLEWARE"]


def test_without_email_url_messages_go_to_the_log(clean_env):
    email = email_settings(clean_env)

    assert email == {
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "DEFAULT_FROM_EMAIL": "shop@localhost",
    }


def test_email_url_names_the_smtp_server_and_whether_to_start_tls(clean_env, monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "smtp+tls://shop%40example.com:p%2Fss@smtp.example.com:587")
    monkeypatch.setenv("DEFAULT_FROM_EMAIL", "orders@example.com")

    email = email_settings(clean_env)

    assert email == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "shop@example.com",
        "EMAIL_HOST_PASSWORD": "p/ss",
        "EMAIL_USE_TLS": True,
        "DEFAULT_FROM_EMAIL": "orders@example.com",
    }
    monkeypatch.setenv("EMAIL_URL", "smtp://relay.internal")
    assert email_settings(clean_env)["EMAIL_PORT"] == 25
    assert email_settings(clean_env)["EMAIL_USE_TLS"] is False


def test_an_email_url_of_another_kind_is_refused(clean_env, monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "https://mail.example.com")

    with pytest.raises(ImproperlyConfigured, match="smtp://"):
        email_settings(clean_env)
