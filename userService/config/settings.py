"""Settings of the user service: the shared defaults of shop_common.conf, then its own."""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from shop_common.conf import environment, service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(
    service_settings(
        service="user",
        base_dir=BASE_DIR,
        apps=["oauth2_provider", "accounts"],
        admin=True,
    )
)
env = environment(BASE_DIR)

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/oauth/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The key that signs user tokens. Only this service holds it; the others ask /auth/validate/.
DEVELOPMENT_JWT_KEY = "development-only-jwt-signing-key-do-not-deploy"
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="")
if not JWT_SIGNING_KEY or JWT_SIGNING_KEY == DEVELOPMENT_JWT_KEY:
    if not DEBUG:  # noqa: F821 (set by service_settings)
        raise ImproperlyConfigured(
            "JWT_SIGNING_KEY is not set (or is the development default). Set a random value of "
            "32 characters or more; `make run` writes one to .env."
        )
    JWT_SIGNING_KEY = DEVELOPMENT_JWT_KEY
if len(JWT_SIGNING_KEY) < 32:
    raise ImproperlyConfigured("JWT_SIGNING_KEY must be at least 32 characters long.")

SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env("JWT_ACCESS_SECONDS", default=300, cast=int)),
    "REFRESH_TOKEN_LIFETIME": timedelta(
        seconds=env("JWT_REFRESH_SECONDS", default=86400, cast=int)
    ),
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F821 (set by service_settings)
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.LocalBearerTokenAuthentication"],
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": env("LOGIN_RATE_PER_IP", default="30/min"),
        "login_email": env("LOGIN_RATE_PER_EMAIL", default="10/min"),
        "signup_ip": env("SIGNUP_RATE_PER_IP", default="20/hour"),
    },
}

OAUTH2_PROVIDER = {
    "SCOPES": {
        "internal": "Calls between the shop's services",
        "introspection": "Introspect tokens",
        "read": "Read your shop data",
        "write": "Change your shop data",
    },
    "DEFAULT_SCOPES": ["read"],
    "SCOPES_BACKEND_CLASS": "accounts.oauth.ShopScopes",
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env("OAUTH_ACCESS_TOKEN_SECONDS", default=3600, cast=int),
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
}
