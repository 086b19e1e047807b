"""How operators meet the user service: createsuperuser, demo data, the admin, its start-up checks."""

import base64
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import LoginSession, Role, User
from shop_common.demo import DEMO_USERS

SERVICE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_createsuperuser_noinput_makes_an_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Shop.test")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-passphrase-7")

    call_command("createsuperuser", "--noinput")

    user = User.objects.get(email="root@shop.test")
    assert user.role_names() == [Role.ADMIN]
    assert user.is_staff
    assert user.is_superuser
    assert user.check_password("a-long-enough-passphrase-7")


@pytest.mark.django_db
def test_demo_data_makes_one_user_per_role_once(api_client):
    call_command("load_demo_data")
    call_command("load_demo_data")

    assert User.objects.count() == len(DEMO_USERS)
    for email, password, role, _ in DEMO_USERS:
        login = api_client.post("/auth/login/", {"email": email, "password": password})
        assert login.status_code == 200
        assert login.json()["user"]["roles"] == [role]


@pytest.mark.django_db
def test_revoking_a_session_in_the_admin_kills_its_tokens(
    client, api_client, admin_user, customer, tokens_for
):
    pair = tokens_for(customer)
    session = LoginSession.objects.get(user=customer)
    client.force_login(admin_user)

    response = client.post(
        "/admin/accounts/loginsession/", {"action": "revoke", "_selected_action": [str(session.pk)]}
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.revoked_reason == "revoked_by_admin"
    assert api_client.post("/auth/validate/", {"token": pair.access}).status_code == 401


@pytest.mark.django_db
def test_a_customer_cannot_open_the_admin(client, customer):
    client.force_login(customer)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def settings_error(dotenv_dir: Path, **env: str) -> str:
    """What importing the real settings says with this environment (DEBUG off, no .env file)."""
    clean = {
        k: v for k, v in os.environ.items() if k not in {"JWT_SIGNING_KEY", "DEBUG", "SECRET_KEY"}
    }
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=SERVICE_DIR,
        env={**clean, "SECRET_KEY": "set", "DEBUG": "False", "DOTENV_DIR": str(dotenv_dir), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stderr if result.returncode else ""


@pytest.mark.parametrize(
    "jwt_key",
    [None, "development-only-jwt-signing-key-do-not-deploy", "short-key"],
    ids=["missing", "development default", "too short"],
)
def test_the_service_refuses_to_start_without_a_real_signing_key(jwt_key, tmp_path):
    env = {} if jwt_key is None else {"JWT_SIGNING_KEY": jwt_key}

    assert "JWT_SIGNING_KEY" in settings_error(tmp_path, **env)


def test_the_service_starts_with_a_real_signing_key(tmp_path):
    assert settings_error(tmp_path, JWT_SIGNING_KEY="k" * 48) == ""


def test_the_service_refuses_to_start_with_a_guessable_client_secret(tmp_path):
    """Service client secrets are never locked after failures, so they must be 256 bits."""
    key = {"JWT_SIGNING_KEY": "k" * 48}

    assert "at least 43" in settings_error(tmp_path, **key, USER_CLIENT_SECRET="s" * 42)
    assert "at least 43" in settings_error(tmp_path, **key, SERVICE_CLIENT_SECRET="short")
    assert settings_error(tmp_path, **key, USER_CLIENT_SECRET="s" * 43) == ""


ORDER_SECRET = "order-secret-from-dot-env-".ljust(48, "d")


@pytest.mark.django_db
def test_setup_service_registers_each_service_client_from_env_or_dot_env(
    monkeypatch, tmp_path, client
):
    (tmp_path / ".env").write_text(f"ORDER_CLIENT_SECRET={ORDER_SECRET}\n")
    monkeypatch.setenv("DOTENV_DIR", str(tmp_path))
    monkeypatch.setenv("CART_CLIENT_SECRET", "cart-secret-from-environment-".ljust(48, "e"))
    for name in ("USER", "PRODUCT", "PAYMENT", "INTEGRATION"):
        monkeypatch.delenv(f"{name}_CLIENT_SECRET", raising=False)
    out = StringIO()

    call_command("setup_service", stdout=out)
    call_command("setup_service", stdout=out)  # nothing changed: nothing to say

    assert out.getvalue().splitlines() == [
        "service client shop-cart registered",
        "service client shop-order registered",
    ]
    for client_id, secret in (
        ("shop-order", ORDER_SECRET),
        ("shop-cart", "cart-secret-from-environment-".ljust(48, "e")),
    ):
        response = client.post(
            "/o/token/",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION="Basic "
            + base64.b64encode(f"{client_id}:{secret}".encode()).decode(),
        )
        assert response.status_code == 200
        assert response.json()["scope"] == "internal"
