"""Settings helpers: every service builds its Django settings from the environment through here.

A service's ``config/settings.py`` calls :func:`service_settings` and adds what is its own. Values
come from the process environment first, then from a ``.env`` file found by walking up from the
service folder (python-decouple), then from the local-use defaults below.

:func:`service_settings` is a table of builders (:data:`SETTINGS_BUILDERS`), one per concern, each
handed the same :class:`ServiceContext`.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from decouple import AutoConfig, Csv
from django.core.exceptions import ImproperlyConfigured

from shop_common.topology import SERVICES, SERVICES_BY_NAME, Service, short_service_secret

DB_ENGINES = ("sqlite", "mysql")

# Seconds stock stays reserved for an unpaid order: the product service then frees the stock and the
# order service cancels the order, so both read this one value.
RESERVATION_TTL_SECONDS = 15 * 60

# Strict mode makes MySQL refuse out-of-range or truncated values instead of silently adapting them.
MYSQL_SQL_MODE = "STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
# Seconds a database connection is kept between requests: opening one (and, with SQLite, setting
# its pragmas) on every request costs more than the request's own queries.
DB_CONN_MAX_AGE = 60
# Seconds a SQLite writer waits for another writer before it gives up, and MySQL's connect timeout.
SQLITE_BUSY_TIMEOUT = 20
MYSQL_CONNECT_TIMEOUT = 3
# A health check pings MySQL before the first query of every request: a second round trip on each.
# Without it a connection that died (server restart) fails one request with a 503 and is replaced
# on the next.
MYSQL_CONN_HEALTH_CHECKS = False


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
        return _sqlite_database(base_dir=base_dir, name=name)
    if engine == "mysql":
        return _mysql_database(env, name=name)
    raise ImproperlyConfigured(f"DB_ENGINE must be one of {', '.join(DB_ENGINES)}, not {engine!r}.")


def _sqlite_database(*, base_dir: Path, name: str) -> dict[str, Any]:
    path = Path(name) if "/" in name else base_dir / "var" / f"{name}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "CONN_MAX_AGE": DB_CONN_MAX_AGE,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # A second writer waits for the first (IMMEDIATE + timeout) instead of failing with
            # "database is locked"; WAL lets readers go on while one process writes.
            "transaction_mode": "IMMEDIATE",
            "timeout": SQLITE_BUSY_TIMEOUT,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def _mysql_database(env: AutoConfig, *, name: str) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.mysql",
        "NAME": name,
        "HOST": env("DB_HOST", default="127.0.0.1"),
        "PORT": env("DB_PORT", default="3306"),
        "USER": env("DB_USER", default="root"),
        "PASSWORD": env("DB_PASSWORD", default=""),
        "CONN_MAX_AGE": DB_CONN_MAX_AGE,
        "CONN_HEALTH_CHECKS": MYSQL_CONN_HEALTH_CHECKS,
        "OPTIONS": {
            "charset": "utf8mb4",
            "init_command": f"SET sql_mode='{MYSQL_SQL_MODE}'",
            "isolation_level": "read committed",
            "connect_timeout": MYSQL_CONNECT_TIMEOUT,
        },
        "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
    }


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


# EMAIL_URL's schemes, and whether each starts TLS (STARTTLS) on the connection.
EMAIL_SCHEMES = {"smtp": False, "smtp+tls": True}


def email_settings(env: AutoConfig) -> dict[str, Any]:
    """Django's email settings from ``EMAIL_URL``: unset, the console backend (a message is written
    to the log); ``smtp://user:password@host:port``, or ``smtp+tls://...`` to start TLS, for an
    SMTP server (user and password percent-encoded). ``DEFAULT_FROM_EMAIL`` is the sender."""
    sender = {"DEFAULT_FROM_EMAIL": env("DEFAULT_FROM_EMAIL", default="shop@localhost")}
    url = env("EMAIL_URL", default="")
    if not url:
        return {**sender, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme not in EMAIL_SCHEMES:
        raise ImproperlyConfigured(
            f"EMAIL_URL must start with smtp:// or smtp+tls://, not {parts.scheme}://."
        )
    return {
        **sender,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or 25,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": EMAIL_SCHEMES[parts.scheme],
    }


def service_urls(env: AutoConfig) -> dict[str, str]:
    return {
        service.name: env(service.url_variable, default=service.default_url).rstrip("/")
        for service in SERVICES
    }


def payment_gateways(env: AutoConfig) -> tuple[list[str], str]:
    """The gateways a payment may choose and the one used when it names none. Shared: the payment
    service charges through them, and the integration service refuses any other before it places
    an order (no call to ask which are offered)."""
    gateways = env(
        "PAYMENT_GATEWAYS",
        default="stripe,razorpay",
        cast=lambda v: [g.strip() for g in v.split(",") if g.strip()],
    )
    default = env("PAYMENT_GATEWAY", default="stripe")
    if default not in gateways:
        raise ImproperlyConfigured(
            f"PAYMENT_GATEWAY is {default!r} but PAYMENT_GATEWAYS lists {gateways}."
        )
    return gateways, default


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


def service_client_secret(env: AutoConfig, service: Service) -> str:
    """This service's client secret; one shorter than 256 bits refuses to start (it is never
    locked after failed guesses, docs/auth.md)."""
    secret = env("SERVICE_CLIENT_SECRET", default=env(service.client_secret_variable, default=""))
    if secret and (problem := short_service_secret(service.name, secret)):
        raise ImproperlyConfigured(problem)
    return secret


def secret_key(env: AutoConfig, *, debug: bool) -> str:
    return required_secret(
        env,
        "SECRET_KEY",
        debug=debug,
        development_value="django-insecure-development-only-key",
        hint="Set it in the environment or .env (`make run` writes a random one), or set "
        "DEBUG=True for a development-only default.",
    )


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


@dataclass(frozen=True)
class ServiceContext:
    """What every settings builder is handed: the service, its folder, its variables and what its
    ``config/settings.py`` asked for."""

    service: Service
    base_dir: Path
    env: AutoConfig
    debug: bool
    apps: tuple[str, ...]
    admin: bool
    middleware: tuple[str, ...]
    staff_admin: StaffAdmin | None


# Reported by /health/ and in the OpenAPI schema.
SERVICE_VERSION = "0.1.0"


def django_settings(ctx: ServiceContext) -> dict[str, Any]:
    env = ctx.env
    return {
        "SERVICE_NAME": ctx.service.name,
        "SERVICE_VERSION": SERVICE_VERSION,
        "BASE_DIR": ctx.base_dir,
        "DEBUG": ctx.debug,
        "SECRET_KEY": secret_key(env, debug=ctx.debug),
        "ALLOWED_HOSTS": env("ALLOWED_HOSTS", default="localhost,127.0.0.1,[::1]", cast=Csv()),
        "ROOT_URLCONF": "config.urls",
        "WSGI_APPLICATION": "config.wsgi.application",
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": True,
        "USE_TZ": True,
        # The edge accepts both spellings of a path itself, without a redirect (a redirected POST
        # loses its body).
        "APPEND_SLASH": False,
    }


# Seconds a Django admin session lasts: short, since the admin can change anything. The staff
# admins also re-check their user with the user service (shop_common.staff_admin).
ADMIN_SESSION_SECONDS = 8 * 3600


def apps_settings(ctx: ServiceContext) -> dict[str, Any]:
    admin_apps = ["django.contrib.admin", "django.contrib.sessions", "django.contrib.messages"]
    return {
        "INSTALLED_APPS": [
            *(admin_apps if ctx.admin else []),
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.staticfiles",
            "corsheaders",
            "rest_framework",
            "drf_spectacular",
            "drf_spectacular_sidecar",
            "shop_common",
            *ctx.apps,
        ],
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        *(
                            ["django.contrib.messages.context_processors.messages"]
                            if ctx.admin
                            else []
                        ),
                    ]
                },
            }
        ],
        "SESSION_COOKIE_AGE": ADMIN_SESSION_SECONDS,
        # The default (cookie, then session) builds a signer on every request, admin or not;
        # session storage costs nothing until the admin writes a message.
        "MESSAGE_STORAGE": "django.contrib.messages.storage.session.SessionStorage",
    }


# Django's, for pages only: API routes pass them by (shop_common.edge).
PAGE_MIDDLEWARE = (
    "shop_common.edge.PageSessionMiddleware",
    "shop_common.edge.PageCsrfViewMiddleware",
    "shop_common.edge.PageAuthenticationMiddleware",
    "shop_common.edge.PageMessageMiddleware",
)


def middleware_settings(ctx: ServiceContext) -> dict[str, Any]:
    return {
        "MIDDLEWARE": [
            # Request id, access line, metrics, Host, body limit, deadline, route, page headers
            # and error shape, in one pass.
            "shop_common.edge.EdgeMiddleware",
            "django.middleware.security.SecurityMiddleware",
            "shop_common.edge.StaticFilesMiddleware",
            "shop_common.edge.OriginCorsMiddleware",
            *(PAGE_MIDDLEWARE if ctx.admin else ()),
            *ctx.middleware,
            "shop_common.edge.UnroutedMiddleware",
        ],
    }


def static_files_settings(ctx: ServiceContext) -> dict[str, Any]:
    static_root = ctx.base_dir / "var" / "static"
    static_root.mkdir(parents=True, exist_ok=True)
    return {
        "STATIC_URL": "static/",
        "STATIC_ROOT": static_root,
        # WhiteNoise serves the admin's and the API docs' files under the server straight from the
        # installed apps, so no collectstatic step stands between a clone and a running shop.
        "WHITENOISE_USE_FINDERS": True,
    }


# While Redis cannot be reached: seconds before a worker tries it again, and between two log lines
# about it (shop_common.cache).
CACHE_RETRY_SECONDS = 5.0
CACHE_LOG_INTERVAL_SECONDS = 60.0


def storage_settings(ctx: ServiceContext) -> dict[str, Any]:
    env = ctx.env
    return {
        "DATABASES": {
            "default": database_settings(
                env, base_dir=ctx.base_dir, default_name=ctx.service.schema
            )
        },
        "CACHES": cache_settings(env, service_name=ctx.service.name),
        "CACHE_RETRY_SECONDS": CACHE_RETRY_SECONDS,
        "CACHE_LOG_INTERVAL_SECONDS": CACHE_LOG_INTERVAL_SECONDS,
    }


# Plain HTTP is still answered, not redirected, where the caller cannot follow a redirect to https:
# inside the deployment the services call each other over plain HTTP by their compose names
# (http://user:8001, ...), and health probes use HTTP. A redirected POST loses its body and the
# https port does not exist there. Exempt: health, every /internal/ endpoint, and each public path
# another service calls (the tokens they carry never leave the private network; Django matches
# these against the path without its leading slash).
PLAIN_HTTP_PATHS = (r"^health/?$", r"^internal/")
PLAIN_HTTP_PATHS_BY_SERVICE = {
    # every service validates user tokens, gets/introspects service tokens and fetches the keys
    # that check signed ones here (the staff admins' login is under /internal/).
    "user": (r"^auth/validate/?$", r"^o/token/?$", r"^o/introspect/?$", r"^o/jwks/?$"),
    # the integration service acts for the customer here (checkout.clients).
    "cart": (r"^api/cart(/|$)",),
    "order": (r"^orders/?$", r"^orders/history/?$"),
    "payment": (r"^service/?$",),
}


# HSTS max-age with HTTPS_ONLY: a year, subdomains included, and preload-ready (a promise to
# browsers about every subdomain: set False here if a deployment cannot keep it).
HSTS_SECONDS = 365 * 24 * 3600
HSTS_PRELOAD = True


def https_settings(ctx: ServiceContext) -> dict[str, Any]:
    """Production posture: ``HTTPS_ONLY=True`` where the shop is served over HTTPS (a TLS proxy in
    front of it), so that ``manage.py check --deploy`` is clean. Off by default: ``make run``
    serves plain http://127.0.0.1. See README.md ("Production").

    ``TRUSTED_PROXIES`` is the same variable (and setting) that says whose X-Forwarded-For to
    believe; with one or more proxies, their X-Forwarded-Proto says whether the client used HTTPS.
    """
    env = ctx.env
    https_only = env("HTTPS_ONLY", default=False, cast=bool)
    settings: dict[str, Any] = {
        "SECURE_SSL_REDIRECT": https_only,
        "SECURE_REDIRECT_EXEMPT": [
            *PLAIN_HTTP_PATHS,
            *PLAIN_HTTP_PATHS_BY_SERVICE.get(ctx.service.name, ()),
        ],
        # Sent on HTTPS answers only.
        "SECURE_HSTS_SECONDS": HSTS_SECONDS if https_only else 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": https_only,
        "SECURE_HSTS_PRELOAD": https_only and HSTS_PRELOAD,
        "SESSION_COOKIE_SECURE": https_only,
        "CSRF_COOKIE_SECURE": https_only,
    }
    if env("TRUSTED_PROXIES", default=0, cast=int) > 0:
        settings["SECURE_PROXY_SSL_HEADER"] = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def security_settings(ctx: ServiceContext) -> dict[str, Any]:
    env = ctx.env
    return {
        **https_settings(ctx),
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
        "SESSION_COOKIE_HTTPONLY": True,
        # The admin's and the login page's forms carry the token in the page; no script reads it.
        "CSRF_COOKIE_HTTPONLY": True,
        # Django looks for its own classes by name: the edge sends X-Frame-Options on every HTML
        # page (W002), and the services with pages run CsrfViewMiddleware for pages only (W003);
        # the others have no session or cookie, only Authorization headers.
        "SILENCED_SYSTEM_CHECKS": ["security.W002", "security.W003"],
        "CORS_ALLOWED_ORIGINS": env("CORS_ALLOWED_ORIGINS", default="", cast=Csv()),
        "CORS_EXPOSE_HEADERS": ["X-Request-ID"],
        # How many proxies in front of the service append to X-Forwarded-For (0: believe only the
        # socket peer). Throttles count by this address (shop_common.client_address).
        "TRUSTED_PROXIES": env("TRUSTED_PROXIES", default=0, cast=int),
    }


def observability_settings(ctx: ServiceContext) -> dict[str, Any]:
    env = ctx.env
    return {
        "LOGGING": logging_settings(
            service_name=ctx.service.name,
            level=env("LOG_LEVEL", default="INFO").upper(),
            # Set by `make run` (scripts/start.py): the terminal, written to directly.
            stream_path=os.environ.get("LOG_STREAM", ""),
        ),
        # Tests: each access line carries db_queries, the SQL statements the request ran.
        "COUNT_SQL_QUERIES": False,
        # Tests and diagnosis: db_queries and db_statements, the SQL text of each (no parameters).
        "LOG_SQL_STATEMENTS": False,
        # GET /metrics needs "Authorization: Bearer <this>"; empty: open with DEBUG on, closed
        # otherwise (shop_common.metrics, docs/observability.md).
        "METRICS_TOKEN": env("METRICS_TOKEN", default=""),
        # Tracing is on when this is set: OTLP/HTTP to <endpoint>/v1/traces (shop_common.tracing).
        "OTEL_EXPORTER_OTLP_ENDPOINT": env("OTEL_EXPORTER_OTLP_ENDPOINT", default=""),
    }


# Calls between services (shop_common.service_client): seconds to connect and to wait for an
# answer, both cut to what is left of the request's deadline; extra attempts for idempotent calls
# (GET, PUT, DELETE, or a POST declared idempotent) and the pause before each, times the attempt
# number; connection failures or timeouts in a row that open a dependency's circuit breaker, and
# seconds it stays open before one trial call (shop_common.breaker).
SERVICE_HTTP_CONNECT_TIMEOUT = 2.0
SERVICE_HTTP_READ_TIMEOUT = 5.0
SERVICE_HTTP_RETRIES = 2
SERVICE_HTTP_RETRY_BACKOFF = 0.1
SERVICE_BREAKER_FAILURES = 5
SERVICE_BREAKER_RESET_SECONDS = 10.0
# Seconds of its budget a service keeps back from each service it calls: the one called gives up
# first and names what it waited for (shop_common.service_client).
DEADLINE_HOP_MARGIN_SECONDS = 0.3


def service_http_settings(ctx: ServiceContext) -> dict[str, Any]:
    env = ctx.env
    return {
        "SERVICE_URLS": service_urls(env),
        "SERVICE_HTTP_CONNECT_TIMEOUT": SERVICE_HTTP_CONNECT_TIMEOUT,
        "SERVICE_HTTP_READ_TIMEOUT": SERVICE_HTTP_READ_TIMEOUT,
        "SERVICE_HTTP_RETRIES": SERVICE_HTTP_RETRIES,
        "SERVICE_HTTP_RETRY_BACKOFF": SERVICE_HTTP_RETRY_BACKOFF,
        # Seconds an inbound request may take, its calls to other services included; an earlier
        # X-Request-Deadline from a shop service wins (0: only a service caller's; anyone else's
        # header is ignored). shop_common.deadlines.
        "REQUEST_BUDGET_SECONDS": env("REQUEST_BUDGET_SECONDS", default=5.0, cast=float),
        "DEADLINE_HOP_MARGIN_SECONDS": DEADLINE_HOP_MARGIN_SECONDS,
        "SERVICE_BREAKER_FAILURES": SERVICE_BREAKER_FAILURES,
        "SERVICE_BREAKER_RESET_SECONDS": SERVICE_BREAKER_RESET_SECONDS,
    }


# Seconds another service trusts a validated user token without asking again (0: never): the
# longest a revoked session's token may still be taken where the cache is per process.
AUTH_CACHE_TTL = 30
# Seconds a refused token is remembered, so junk tokens cost no introspection each time.
REFUSED_TOKEN_CACHE_TTL = 10
# Seconds an introspected client-credentials token of an outside application is trusted (the shop
# services' own tokens are signed and checked locally, not introspected).
SERVICE_TOKEN_CACHE_TTL = 30


def service_auth_settings(ctx: ServiceContext) -> dict[str, Any]:
    env, service = ctx.env, ctx.service
    return {
        "AUTH_CACHE_TTL": AUTH_CACHE_TTL,
        "REFUSED_TOKEN_CACHE_TTL": REFUSED_TOKEN_CACHE_TTL,
        # This service's OAuth2 client (client credentials, scope "internal"): for calling other
        # services' /internal/ endpoints and for introspecting the tokens of services calling it.
        # With one .env for all six (make run), each finds its own as <NAME>_CLIENT_SECRET.
        "SERVICE_CLIENT_ID": env("SERVICE_CLIENT_ID", default=service.client_id),
        "SERVICE_CLIENT_SECRET": service_client_secret(env, service),
        "SERVICE_TOKEN_CACHE_TTL": SERVICE_TOKEN_CACHE_TTL,
        # This service's own tokens (the topology's token_scopes), fetched by each server worker
        # as it starts, waiting at most this many seconds for the user service (0: on first use
        # only). shop_common.service_tokens.warm_service_tokens.
        "SERVICE_TOKEN_SCOPES": service.token_scopes,
        "SERVICE_TOKEN_WARMUP_SECONDS": env("SERVICE_TOKEN_WARMUP_SECONDS", default=60, cast=float),
    }


# Limits enforced before any work (shop_common.request_limits, shop_common.parsers): a body over
# the size is a 413, JSON nested deeper, or with more values in all, than these a 400.
MAX_REQUEST_BODY_BYTES = 1024 * 1024
JSON_MAX_DEPTH = 32
JSON_MAX_ITEMS = 10_000


def limits_settings(ctx: ServiceContext) -> dict[str, Any]:
    return {
        "MAX_REQUEST_BODY_BYTES": MAX_REQUEST_BODY_BYTES,
        "DATA_UPLOAD_MAX_MEMORY_SIZE": MAX_REQUEST_BODY_BYTES,
        "JSON_MAX_DEPTH": JSON_MAX_DEPTH,
        "JSON_MAX_ITEMS": JSON_MAX_ITEMS,
    }


def rest_framework_settings(ctx: ServiceContext) -> dict[str, Any]:
    return {
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
            "NUM_PROXIES": ctx.env("TRUSTED_PROXIES", default=0, cast=int),
        },
    }


def schema_settings(ctx: ServiceContext) -> dict[str, Any]:
    service = ctx.service
    return {
        "SPECTACULAR_SETTINGS": {
            "TITLE": f"{service.display_name.capitalize()} API",
            "DESCRIPTION": f"The shop's {service.display_name}: {service.owns}.",
            "VERSION": SERVICE_VERSION,
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
    }


def staff_settings(ctx: ServiceContext) -> dict[str, Any]:
    return staff_admin_settings(ctx.staff_admin) if ctx.staff_admin is not None else {}


SETTINGS_BUILDERS: tuple[Callable[[ServiceContext], dict[str, Any]], ...] = (
    django_settings,
    apps_settings,
    middleware_settings,
    static_files_settings,
    storage_settings,
    security_settings,
    observability_settings,
    service_http_settings,
    service_auth_settings,
    limits_settings,
    rest_framework_settings,
    schema_settings,
    staff_settings,
)


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
    if staff_admin is not None:
        # The admin session ends when the user-service session does (shop_common.staff_admin).
        middleware = ("shop_common.staff_admin.StaffSessionMiddleware", *middleware)
    env = environment(base_dir)
    ctx = ServiceContext(
        service=SERVICES_BY_NAME[service] if isinstance(service, str) else service,
        base_dir=base_dir,
        env=env,
        debug=env("DEBUG", default=False, cast=bool),
        apps=tuple(apps),
        admin=admin or staff_admin is not None,
        middleware=middleware,
        staff_admin=staff_admin,
    )
    settings: dict[str, Any] = {}
    for builder in SETTINGS_BUILDERS:
        settings.update(builder(ctx))
    return settings
