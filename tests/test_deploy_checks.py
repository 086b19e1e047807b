"""Production posture: with the production environment (DEBUG off, HTTPS_ONLY, a trusted proxy,
real-looking secrets) every service passes `manage.py check --deploy` without a warning, plain HTTP
is redirected to HTTPS except where the services call each other, and the payment service refuses a
sandbox Stripe unless it is allowed by name. Each check runs the service's own settings in a
subprocess, as a deployment would."""

import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shop_common.topology import SERVICES, SERVICES_BY_NAME

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_HOST = "shop.example.com"


@pytest.fixture
def production_env(tmp_path):
    """The variables a production deployment sets, and nothing from this machine's .env."""
    dotenv_dir = tmp_path / "no-dotenv"
    dotenv_dir.mkdir()
    return {
        "PATH": os.environ["PATH"],
        **{name: os.environ[name] for name in ("PYTHONPATH",) if name in os.environ},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DOTENV_DIR": str(dotenv_dir),
        "DEBUG": "False",
        "HTTPS_ONLY": "True",
        "TRUSTED_PROXIES": "1",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(64),
        "SERVICE_TOKEN_SIGNING_KEY": secrets.token_urlsafe(64),
        "STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_hex(24)}",
        "STRIPE_SECRET_KEY": "sk_live_not_a_real_key",
        "RAZORPAY_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "RAZORPAY_KEY_ID": "rzp_live_not_a_real_key",
        "RAZORPAY_KEY_SECRET": secrets.token_urlsafe(24),
        "ALLOWED_HOSTS": PUBLIC_HOST,
        "DB_ENGINE": "sqlite",
        "DB_NAME": str(tmp_path / "deploy.sqlite3"),
    }


def manage(service_name: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT / SERVICES_BY_NAME[service_name].folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("service", [service.name for service in SERVICES])
def test_check_deploy_is_clean_with_production_settings(service, production_env):
    result = manage(service, production_env, "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr

    assert result.returncode == 0, output
    assert "WARNINGS" not in output, output
    assert "ERRORS" not in output, output


# Statuses of requests made with Django's test client inside the service's own settings.
CLIENT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import django
    django.setup()
    from django.test import Client
    client = Client(raise_request_exception=False)
    answers = []
    for method, path, headers in json.loads(sys.argv[1]):
        response = getattr(client, method)(path, headers=headers)
        answers.append({
            "status": response.status_code,
            "location": response.headers.get("Location"),
            "hsts": response.headers.get("Strict-Transport-Security"),
        })
    print(json.dumps(answers))
    """
)


def answers(service: str, env: dict[str, str], requests: list[tuple]) -> list[dict]:
    result = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-c", CLIENT_SCRIPT, json.dumps(requests)],
        cwd=ROOT / SERVICES_BY_NAME[service].folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_https_only_redirects_plain_http_but_not_the_health_check(production_env):
    host = {"Host": PUBLIC_HOST}
    products, health, health_slashless, secure_health, foreign = answers(
        "product",
        production_env,
        [
            ("get", "/products/", host),
            ("get", "/health/", host),
            ("get", "/health", host),
            ("get", "/health/", {**host, "X-Forwarded-Proto": "https"}),
            ("get", "/products/", {"Host": "evil.example"}),
        ],
    )

    assert products["status"] == 301
    assert products["location"] == f"https://{PUBLIC_HOST}/products/"
    assert health["status"] == health_slashless["status"] == 200
    assert health["hsts"] is None  # HSTS goes on HTTPS answers only
    # Behind the trusted proxy, HTTPS is known from X-Forwarded-Proto: HSTS, a year, preload.
    assert secure_health["status"] == 200
    assert secure_health["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert foreign["status"] == 400  # the Host is checked before the redirect


def test_without_https_only_nothing_is_redirected(production_env):
    env = {**production_env, "HTTPS_ONLY": "False"}

    (products,) = answers("product", env, [("get", "/products/", {"Host": PUBLIC_HOST})])

    assert products["status"] != 301


# What the services call on each other over plain HTTP inside the deployment (shop_common.auth and
# .service_tokens and .staff_admin, checkout.clients, the /internal/ clients): never redirected. Next to each,
# a public path of the same service that is.
CALLED_OVER_PLAIN_HTTP = {
    "user": [
        ("post", "/auth/validate/"),
        ("post", "/auth/validate"),
        ("post", "/o/token/"),
        ("post", "/o/introspect/"),
        ("get", "/o/jwks/"),
        ("post", "/internal/staff-sessions/"),
    ],
    "product": [("post", "/internal/stock/reserve/"), ("post", "/internal/products/")],
    "cart": [("get", "/api/cart/"), ("post", "/api/cart/add/"), ("post", "/api/cart/clear/")],
    "order": [("post", "/orders/"), ("get", "/orders/history/"), ("get", "/internal/orders/1/")],
    "payment": [("post", "/service/"), ("post", "/internal/payments/")],
    "integration": [("get", "/health/")],
}
REDIRECTED = {
    "user": ("post", "/auth/signup/"),
    "product": ("get", "/category/"),
    "cart": ("get", "/api/docs/"),
    "order": ("get", "/orders/1/"),
    "payment": ("get", "/api/schema/"),
    "integration": ("post", "/checkout/"),
}


@pytest.mark.parametrize("service", [service.name for service in SERVICES])
def test_calls_between_services_are_not_redirected_the_public_api_is(service, production_env):
    host = {"Host": f"{service}:8000"}  # how a service calls another inside docker-compose
    env = {**production_env, "ALLOWED_HOSTS": f"{PUBLIC_HOST},{service}"}
    requests = [(method, path, host) for method, path in CALLED_OVER_PLAIN_HTTP[service]]
    requests.append((*REDIRECTED[service], host))

    *internal, public = answers(service, env, requests)

    for (method, path), answer in zip(CALLED_OVER_PLAIN_HTTP[service], internal, strict=True):
        assert answer["status"] != 301, f"{method.upper()} {path} was redirected"
    assert public["status"] == 301


SANDBOX_ENV = {"STRIPE_API_BASE": "http://127.0.0.1:12111", "HTTPS_ONLY": "False"}


def test_the_payment_service_refuses_a_sandbox_stripe_with_debug_off(production_env):
    result = manage("payment", {**production_env, **SANDBOX_ENV}, "check")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "STRIPE_SANDBOX_ALLOWED=True" in result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        {**SANDBOX_ENV, "STRIPE_SANDBOX_ALLOWED": "True"},
        {**SANDBOX_ENV, "DEBUG": "True"},
        {"STRIPE_API_BASE": "https://api.stripe.com"},
        {"STRIPE_API_BASE": ""},
    ],
    ids=["allowed", "debug", "stripe", "unset"],
)
def test_the_payment_service_starts_with_the_sandbox_allowed_or_real_stripe(production_env, extra):
    result = manage("payment", {**production_env, **extra}, "check")

    assert result.returncode == 0, result.stderr[-3000:]
