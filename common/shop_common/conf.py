"""Settings helpers: every service builds its Django settings from the environment through here.

A service's ``config/settings.py`` calls :func:`service_settings` and adds what is its own. Values
come from the process environment first, then from a ``.env`` file found by walking up from the
service folder (python-decouple), then from the local-use defaults below.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from decouple import AutoConfig, Csv
from django.core.exceptions import ImproperlyConfigured

from shop_common.topology import SERVICES, SERVICES_BY_NAME, Service

DB_ENGINES = ("sqlite", "mysql")

# Strict mode makes MySQL refuse out-of-range or truncated values instead of silently adapting them.
MYSQL_SQL_MODE = "STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"


def environment(base_dir: Path) -> AutoConfig:
    """The variables of one service: process environment, then the nearest ``.env`` upwards from
    the service folder (or from ``DOTENV_DIR`` when that is set)."""
    return AutoConfig(search_path=os.environ.get("DOTENV_DIR") or str(base_dir))


def database_settings(env: AutoConfig, *, base_dir: Path, default_name: str) -> dict[str, Any]:
    engine = env("DB_ENGINE", default="sqlite").strip().lower()
    # A prefix on every service's default schema (or SQLite file) gives a whole shop a set of
    # databases of its own without naming six DB_NAMEs (tests run a `make run` beside yours).
    name = env("DB_NAME", default=env("DB_SCHEMA_PREFIX", default="") + default_name)
    if engine == "sqlite":
        path = Path(name) if "/" in name else base_dir / "var" / f"{name}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            # Kept open between requests: opening a file and setting its pragmas on every request
            # costs more than the request's own queries.
            "CONN_MAX_AGE": env("DB_CONN_MAX_AGE", default=60, cast=int),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # A second writer waits for the first (IMMEDIATE + timeout) instead of failing with
                # "database is locked"; WAL lets readers go on while one process writes.
                "transaction_mode": "IMMEDIATE",
                "timeout": env("DB_SQLITE_TIMEOUT", default=20, cast=int),
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if engine == "mysql":
        return {
            "ENGINE": "django.db.backends.mysql",
            "NAME": name,
            "HOST": env("DB_HOST", default="127.0.0.1"),
            "PORT": env("DB_PORT", default="3306"),
            "USER": env("DB_USER", default="root"),
            "PASSWORD": env("DB_PASSWORD", default=""),
            "CONN_MAX_AGE": env("DB_CONN_MAX_AGE", default=60, cast=int),
            # A health check pings the server before the first query of every request: a second
            # round trip on each. Without it a connection that died (server restart) fails one
            # request with a 503 and is replaced on the next.
            "CONN_HEALTH_CHECKS": env("DB_CONN_HEALTH_CHECKS", default=False, cast=bool),
            "OPTIONS": {
                "charset": "utf8mb4",
                "init_command": f"SET sql_mode='{MYSQL_SQL_MODE}'",
                "isolation_level": "read committed",
                "connect_timeout": env("DB_CONNECT_TIMEOUT", default=3, cast=int),
            },
            "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
        }
    raise ImproperlyConfigured(f"DB_ENGINE must be one of {', '.join(DB_ENGINES)}, not {engine!r}.")


def cache_settings(env: AutoConfig, *, service_name: str) -> dict[str, Any]:
    redis_url = env("REDIS_URL", default="")
    if redis_url:
        return {
            "default": {
                # Django's Redis cache that serves as an empty cache while Redis is down.
                "BACKEND": "shop_common.cache.ResilientRedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="shop"),
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"shop-{service_name}",
        }
    }


def logging_settings(*, service_name: str, level: str, stream_path: str = "") -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "shop_common.logs.RequestIdFilter"}},
        "formatters": {"json": {"()": "shop_common.logs.JsonFormatter", "service": service_name}},
        "handlers": {
            "console": {
                "()": "shop_common.logs.ConsoleHandler",
                "stream_path": stream_path,
                "filters": ["request_id"],
                "formatter": "json",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # Django logs every 4xx here as a warning and every 5xx as an error, after our own
            # lines (the access line; shop.errors with the traceback and the request id for a
            # 500): a second line for the same failure, without the request id. Silenced.
            "django.request": {"handlers": ["console"], "level": "CRITICAL", "propagate": False},
            "django.server": {"handlers": ["console"], "level": "ERROR", "propagate": False},
            # httpx logs every call at INFO; our service client logs the failures that matter.
            "httpx": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            "httpcore": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            "stripe": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }


def service_urls(env: AutoConfig) -> dict[str, str]:
    return {
        service.name: env(service.url_variable, default=service.default_url).rstrip("/")
        for service in SERVICES
    }


def required_secret(
    env: AutoConfig, name: str, *, debug: bool, development_value: str, hint: str
) -> str:
    """The secret ``name`` from the environment. Unset, or set to the development value printed
    here: with DEBUG on, the development value; with DEBUG off, ``ImproperlyConfigured`` (``hint``
    says how to set one), so that no deployment runs on a secret anyone can read in this code."""
    value = env(name, default="")
    if value and value != development_value:
        return value
    if not debug:
        raise ImproperlyConfigured(f"{name} is not set (or is the development default). {hint}")
    return development_value


def secret_key(env: AutoConfig, *, debug: bool) -> str:
    return required_secret(
        env,
        "SECRET_KEY",
        debug=debug,
        development_value="django-insecure-development-only-key",
        hint="Set it in the environment or .env (`make run` writes a random one), or set "
        "DEBUG=True for a development-only default.",
    )


def https_settings(env: AutoConfig, *, service: Service, admin: bool) -> dict[str, Any]:
    """Production posture: ``HTTPS_ONLY=True`` where the shop is served over HTTPS (a TLS proxy in
    front of it), so that ``manage.py check --deploy`` is clean. Off by default: ``make run``
    serves plain http://127.0.0.1. See README.md ("Production") and docs/decisions.md.

    ``TRUSTED_PROXIES`` is the same variable (and setting) that says whose X-Forwarded-For to
    believe; with one or more proxies, their X-Forwarded-Proto says whether the client used HTTPS.
    """
    https_only = env("HTTPS_ONLY", default=False, cast=bool)
    # Plain HTTP is still answered, not redirected, where the caller cannot follow a redirect to
    # https: inside the deployment the services call each other over plain HTTP by their compose
    # names (http://user:8001, ...), and health probes use HTTP. A redirected POST loses its body
    # and the https port does not exist there. Exempt: health, every /internal/ endpoint, and each
    # public path another service calls (the tokens they carry never leave the private network;
    # Django matches these against the path without its leading slash).
    exempt = [r"^health/?$", r"^internal/"]
    exempt += {
        # every service validates user tokens, gets/introspects service tokens and fetches the
        # keys that check signed ones here (the staff admins' login is under /internal/).
        "user": [r"^auth/validate/?$", r"^o/token/?$", r"^o/introspect/?$", r"^o/jwks/?$"],
        # the integration service acts for the customer here (checkout.clients).
        "cart": [r"^api/cart(/|$)"],
        "order": [r"^orders/?$", r"^orders/history/?$"],
        "payment": [r"^service/?$"],
    }.get(service.name, [])
    settings: dict[str, Any] = {
        "SECURE_SSL_REDIRECT": https_only,
        "SECURE_REDIRECT_EXEMPT": exempt,
        # HSTS (sent on HTTPS answers only): a year, subdomains included, preload-ready.
        "SECURE_HSTS_SECONDS": (
            env("SECURE_HSTS_SECONDS", default=31536000, cast=int) if https_only else 0
        ),
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": https_only,
        "SECURE_HSTS_PRELOAD": https_only and env("SECURE_HSTS_PRELOAD", default=True, cast=bool),
        "SESSION_COOKIE_SECURE": https_only,
        "CSRF_COOKIE_SECURE": https_only,
        "SESSION_COOKIE_HTTPONLY": True,
        # The admin's and the login page's forms carry the token in the page; no script reads it.
        "CSRF_COOKIE_HTTPONLY": True,
        # Django looks for its own classes by name: the edge sends X-Frame-Options on every HTML
        # page (W002), and the services with pages run CsrfViewMiddleware for pages only (W003);
        # the others have no session or cookie, only Authorization headers.
        "SILENCED_SYSTEM_CHECKS": ["security.W002", "security.W003"],
    }
    if env("TRUSTED_PROXIES", default=0, cast=int) > 0:
        settings["SECURE_PROXY_SSL_HEADER"] = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


@dataclass(frozen=True)
class StaffAdmin:
    """A service's Django admin for the shop's staff, who log in with their user-service email and
    password (:mod:`shop_common.staff_admin`, docs/auth.md "Staff admins").

    ``group``: the local group a STAFF member joins (an ADMIN is superuser of this admin);
    ``permissions``: what that group may do, app label → model → actions
    (``{"catalog": {"product": ("add", "change", "delete", "view")}}``); ``login_label``: the label
    of the login form's username field."""

    group: str
    permissions: Mapping[str, Mapping[str, tuple[str, ...]]]
    login_label: str = "Email"


def staff_admin_settings(staff_admin: StaffAdmin) -> dict[str, Any]:
    return {
        "AUTHENTICATION_BACKENDS": ["shop_common.staff_admin.UserServiceBackend"],
        "STAFF_ADMIN_GROUP": staff_admin.group,
        "STAFF_ADMIN_PERMISSIONS": {
            app_label: dict(models) for app_label, models in staff_admin.permissions.items()
        },
        "STAFF_ADMIN_LOGIN_LABEL": staff_admin.login_label,
    }


def service_settings(
    *,
    service: Service | str,
    base_dir: Path,
    apps: list[str],
    admin: bool = False,
    staff_admin: StaffAdmin | None = None,
    middleware: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Django settings shared by every service; the caller puts them in its module globals.

    ``service`` is a name from the topology (``"product"``) or a :class:`Service` of its own;
    ``admin`` mounts Django's admin apps and middleware; ``staff_admin`` does too, with the staff's
    user-service login and the admin session that follows the user-service session;
    ``middleware`` of its own runs after authentication and inside the error-shape middleware.
    """
    if isinstance(service, str):
        service = SERVICES_BY_NAME[service]
    if staff_admin is not None:
        admin = True
        # The admin session ends when the user-service session does (shop_common.staff_admin).
        middleware = ("shop_common.staff_admin.StaffSessionMiddleware", *middleware)
    env = environment(base_dir)
    (base_dir / "var" / "static").mkdir(parents=True, exist_ok=True)
    debug = env("DEBUG", default=False, cast=bool)
    admin_apps = ["django.contrib.admin", "django.contrib.sessions", "django.contrib.messages"]
    # Django's, for pages only: API routes pass them by (shop_common.edge).
    admin_middleware = [
        "shop_common.edge.PageSessionMiddleware",
        "shop_common.edge.PageCsrfViewMiddleware",
        "shop_common.edge.PageAuthenticationMiddleware",
        "shop_common.edge.PageMessageMiddleware",
    ]
    return {
        "SERVICE_NAME": service.name,
        "SERVICE_VERSION": env("SERVICE_VERSION", default="0.1.0"),
        "BASE_DIR": base_dir,
        "DEBUG": debug,
        "SECRET_KEY": secret_key(env, debug=debug),
        "ALLOWED_HOSTS": env("ALLOWED_HOSTS", default="localhost,127.0.0.1,[::1]", cast=Csv()),
        "INSTALLED_APPS": [
            *(admin_apps if admin else []),
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.staticfiles",
            "corsheaders",
            "rest_framework",
            "drf_spectacular",
            "drf_spectacular_sidecar",
            "shop_common",
            *apps,
        ],
        "MIDDLEWARE": [
            # Request id, access line, metrics, Host, body limit, deadline, route, page headers
            # and error shape, in one pass.
            "shop_common.edge.EdgeMiddleware",
            "django.middleware.security.SecurityMiddleware",
            "shop_common.edge.StaticFilesMiddleware",
            "shop_common.edge.OriginCorsMiddleware",
            *(admin_middleware if admin else []),
            *middleware,
            "shop_common.edge.UnroutedMiddleware",
        ],
        # Django admin sessions (seconds): short, since the admin can change anything. The staff
        # admins also re-check their user with the user service (shop_common.staff_admin).
        "SESSION_COOKIE_AGE": env("ADMIN_SESSION_SECONDS", default=8 * 3600, cast=int),
        # The default (cookie, then session) builds a signer on every request, admin or not;
        # session storage costs nothing until the admin writes a message.
        "MESSAGE_STORAGE": "django.contrib.messages.storage.session.SessionStorage",
        "ROOT_URLCONF": "config.urls",
        "WSGI_APPLICATION": "config.wsgi.application",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        *(["django.contrib.messages.context_processors.messages"] if admin else []),
                    ]
                },
            }
        ],
        "DATABASES": {
            "default": database_settings(env, base_dir=base_dir, default_name=service.schema)
        },
        "CACHES": cache_settings(env, service_name=service.name),
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": True,
        "USE_TZ": True,
        "STATIC_URL": "static/",
        "STATIC_ROOT": base_dir / "var" / "static",
        # WhiteNoise serves the admin's and the API docs' files under the server straight from the
        # installed apps, so no collectstatic step stands between a clone and a running shop.
        "WHITENOISE_USE_FINDERS": True,
        # The edge accepts both spellings of a path itself, without a redirect (a redirected POST
        # loses its body).
        "APPEND_SLASH": False,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
        **https_settings(env, service=service, admin=admin),
        "CORS_ALLOWED_ORIGINS": env("CORS_ALLOWED_ORIGINS", default="", cast=Csv()),
        "CORS_EXPOSE_HEADERS": ["X-Request-ID"],
        "LOGGING": logging_settings(
            service_name=service.name,
            level=env("LOG_LEVEL", default="INFO").upper(),
            # Set by `make run` (scripts/start.py): the terminal, written to directly.
            stream_path=os.environ.get("LOG_STREAM", ""),
        ),
        "SERVICE_URLS": service_urls(env),
        "SERVICE_HTTP_CONNECT_TIMEOUT": env(
            "SERVICE_HTTP_CONNECT_TIMEOUT", default=2.0, cast=float
        ),
        "SERVICE_HTTP_READ_TIMEOUT": env("SERVICE_HTTP_READ_TIMEOUT", default=5.0, cast=float),
        "SERVICE_HTTP_RETRIES": env("SERVICE_HTTP_RETRIES", default=2, cast=int),
        "SERVICE_HTTP_RETRY_BACKOFF": env("SERVICE_HTTP_RETRY_BACKOFF", default=0.1, cast=float),
        # Seconds an inbound request may take, its calls to other services included; an earlier
        # X-Request-Deadline from a shop service wins (0: only a service caller's; anyone else's
        # header is ignored). shop_common.deadlines.
        "REQUEST_BUDGET_SECONDS": env("REQUEST_BUDGET_SECONDS", default=5.0, cast=float),
        # Seconds of its budget a service keeps back from each service it calls: the one called
        # gives up first and names what it waited for (shop_common.service_client).
        "DEADLINE_HOP_MARGIN_SECONDS": env("DEADLINE_HOP_MARGIN_SECONDS", default=0.3, cast=float),
        # Connection failures or timeouts in a row that open a dependency's circuit breaker, and
        # seconds it stays open before one trial call (shop_common.breaker).
        "SERVICE_BREAKER_FAILURES": env("SERVICE_BREAKER_FAILURES", default=5, cast=int),
        "SERVICE_BREAKER_RESET_SECONDS": env(
            "SERVICE_BREAKER_RESET_SECONDS", default=10.0, cast=float
        ),
        # GET /metrics needs "Authorization: Bearer <this>"; empty: open with DEBUG on, closed
        # otherwise (shop_common.metrics, docs/observability.md).
        "METRICS_TOKEN": env("METRICS_TOKEN", default=""),
        # Tracing is on when this is set: OTLP/HTTP to <endpoint>/v1/traces (shop_common.tracing).
        "OTEL_EXPORTER_OTLP_ENDPOINT": env("OTEL_EXPORTER_OTLP_ENDPOINT", default=""),
        # Seconds another service trusts a validated user token without asking again (0: never).
        "AUTH_CACHE_TTL": env("AUTH_CACHE_TTL", default=30, cast=int),
        # This service's OAuth2 client (client credentials, scope "internal"): for calling other
        # services' /internal/ endpoints and for introspecting the tokens of services calling it.
        # With one .env for all six (make run), each finds its own as <NAME>_CLIENT_SECRET.
        "SERVICE_CLIENT_ID": env("SERVICE_CLIENT_ID", default=service.client_id),
        "SERVICE_CLIENT_SECRET": env(
            "SERVICE_CLIENT_SECRET", default=env(service.client_secret_variable, default="")
        ),
        "SERVICE_TOKEN_CACHE_TTL": env("SERVICE_TOKEN_CACHE_TTL", default=30, cast=int),
        # This service's own tokens (the topology's token_scopes), fetched by each server worker
        # as it starts, waiting at most this many seconds for the user service (0: on first use
        # only). shop_common.service_tokens.warm_service_tokens.
        "SERVICE_TOKEN_SCOPES": service.token_scopes,
        "SERVICE_TOKEN_WARMUP_SECONDS": env("SERVICE_TOKEN_WARMUP_SECONDS", default=60, cast=float),
        # Limits enforced before any work (shop_common.request_limits, shop_common.parsers): a body
        # over the size is a 413, JSON deeper or larger than these a 400.
        "MAX_REQUEST_BODY_BYTES": env("MAX_REQUEST_BODY_BYTES", default=1024 * 1024, cast=int),
        "DATA_UPLOAD_MAX_MEMORY_SIZE": env("MAX_REQUEST_BODY_BYTES", default=1024 * 1024, cast=int),
        "JSON_MAX_DEPTH": env("JSON_MAX_DEPTH", default=32, cast=int),
        "JSON_MAX_ITEMS": env("JSON_MAX_ITEMS", default=10_000, cast=int),
        # While Redis cannot be reached: seconds before a worker tries it again, and between two
        # log lines about it (shop_common.cache).
        "CACHE_RETRY_SECONDS": env("CACHE_RETRY_SECONDS", default=5.0, cast=float),
        "CACHE_LOG_INTERVAL_SECONDS": env("CACHE_LOG_INTERVAL_SECONDS", default=60.0, cast=float),
        # Seconds a refused token is remembered, so junk tokens cost no introspection each time.
        "REFUSED_TOKEN_CACHE_TTL": env("REFUSED_TOKEN_CACHE_TTL", default=10, cast=int),
        # Tests: each access line carries db_queries, the SQL statements the request ran.
        "COUNT_SQL_QUERIES": env("COUNT_SQL_QUERIES", default=False, cast=bool),
        # Tests and diagnosis: db_queries and db_statements, the SQL text of each (no parameters).
        "LOG_SQL_STATEMENTS": env("LOG_SQL_STATEMENTS", default=False, cast=bool),
        # How many proxies in front of the service append to X-Forwarded-For (0: believe only the
        # socket peer). Throttles count by this address (shop_common.client_address).
        "TRUSTED_PROXIES": env("TRUSTED_PROXIES", default=0, cast=int),
        "REST_FRAMEWORK": {
            "DEFAULT_AUTHENTICATION_CLASSES": ["shop_common.auth.BearerTokenAuthentication"],
            # Deny by default: a view that is public says so itself.
            "DEFAULT_PERMISSION_CLASSES": ["shop_common.permissions.IsAuthenticatedUser"],
            "DEFAULT_RENDERER_CLASSES": ["shop_common.renderers.JSONRenderer"],
            "DEFAULT_PARSER_CLASSES": ["shop_common.parsers.JSONParser"],
            "DEFAULT_PAGINATION_CLASS": "shop_common.pagination.PageNumberPagination",
            "PAGE_SIZE": 20,
            "DEFAULT_SCHEMA_CLASS": "shop_common.schema.AutoSchema",
            "EXCEPTION_HANDLER": "shop_common.error_handlers.drf_exception_handler",
            "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
            "COERCE_DECIMAL_TO_STRING": True,
            # DRF's throttles read X-Forwarded-For only for this many proxies (None would take any
            # client's header at its word).
            "NUM_PROXIES": env("TRUSTED_PROXIES", default=0, cast=int),
        },
        "SPECTACULAR_SETTINGS": {
            "TITLE": f"{service.display_name.capitalize()} API",
            "DESCRIPTION": f"The shop's {service.display_name}: {service.owns}.",
            "VERSION": env("SERVICE_VERSION", default="0.1.0"),
            "SERVE_INCLUDE_SCHEMA": False,
            # /internal/ is for the services, not in the public schema (shop_common.schema).
            "PREPROCESSING_HOOKS": ["shop_common.schema.public_operations"],
            "SWAGGER_UI_DIST": "SIDECAR",
            "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
            "REDOC_DIST": "SIDECAR",
            "PATH_CONVERTER_OVERRIDES": {
                "id": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}
            },
        },
        **(staff_admin_settings(staff_admin) if staff_admin is not None else {}),
    }
