"""Settings of the user service: the shared defaults of shop_common.conf, then its own."""

from datetime import timedelta
from pathlib import Path

from decouple import Csv
from django.core.exceptions import ImproperlyConfigured

from shop_common.conf import email_settings, environment, required_secret, service_settings

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
# Every password check goes through the throttle (accounts.backends, accounts.throttles).
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledEmailBackend"]
# Failed password checks allowed per account and per client address in a window ("N/15m"); the
# counters are shared by all workers (Redis with REDIS_URL, this service's database otherwise).
PASSWORD_FAILURES_PER_ACCOUNT = env("PASSWORD_FAILURES_PER_ACCOUNT", default="10/15m")
PASSWORD_FAILURES_PER_ADDRESS = env("PASSWORD_FAILURES_PER_ADDRESS", default="30/15m")
SIGNUP_RATE_PER_IP = env("SIGNUP_RATE_PER_IP", default="20/hour")
# Where the owner of an email hears of a signup attempt for it (accounts.services.signup): the log
# without EMAIL_URL, an SMTP server with it.
globals().update(email_settings(env))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The key that signs user tokens. Only this service holds it; the others ask /auth/validate/.
JWT_SIGNING_KEY = required_secret(
    env,
    "JWT_SIGNING_KEY",
    debug=DEBUG,  # noqa: F821 (set by service_settings)
    development_value="development-only-jwt-signing-key-do-not-deploy",
    hint="Set a random value of 32 characters or more; `make run` writes one to .env.",
)
if len(JWT_SIGNING_KEY) < 32:
    raise ImproperlyConfigured("JWT_SIGNING_KEY must be at least 32 characters long.")

SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env("JWT_ACCESS_SECONDS", default=300, cast=int)),
    # A login session: a day.
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

# With a shared cache (REDIS_URL), seconds a login session's state is kept there for validations
# (accounts.session_state; at most the access token lifetime; 0: the database every time).
SESSION_STATE_CACHE_TTL = 300

REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F821 (set by service_settings)
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.LocalBearerTokenAuthentication"],
}

# Applications that may act for a person (authorization code); every other application gets
# client-credentials tokens at most. The shop's own page (/oauth/) is the one there is.
OAUTH_FIRST_PARTY_CLIENTS = ["shop-oauth-demo"]
# Where the /oauth/ page may be served, exactly (manage.py setup_service writes them to its client).
OAUTH_DEMO_REDIRECT_URIS = env(
    "OAUTH_DEMO_REDIRECT_URIS",
    default=f"{SERVICE_URLS['user']}/oauth/",  # noqa: F821 (set by service_settings)
    cast=Csv(),
)

OAUTH2_PROVIDER = {
    "SCOPES": {
        "internal": "Calls between the shop's services",
        "introspection": "Introspect tokens",
        "read": "Read your shop data",
        "write": "Change your shop data",
    },
    "DEFAULT_SCOPES": ["read"],
    "SCOPES_BACKEND_CLASS": "accounts.oauth.ShopScopes",
    "OAUTH2_VALIDATOR_CLASS": "accounts.oauth.ShopOAuth2Validator",
    "PKCE_REQUIRED": True,
    # OAuth2 access tokens (authorization code and client credentials): an hour.
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Plain-http redirect URIs only for a shop served over plain http (make run, tests).
    "ALLOWED_REDIRECT_URI_SCHEMES": (
        ["https"] if env("HTTPS_ONLY", default=False, cast=bool) else ["http", "https"]
    ),
    # RFC 9700 (OAuth 2.0 Security Best Current Practice), enforced now rather than at the
    # library's 4.0: no implicit or password grant, S256 PKCE only, no token in a query string,
    # `iss` in authorization responses, tokens stored as checksums only.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
