"""The user service's trust boundaries, each as an attacker tried them: the OAuth surface, service
identities, the throttles on every password check, and the staff sessions of the product admin."""

import base64
import uuid
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from oauth2_provider.models import get_access_token_model, get_application_model

from accounts import services
from accounts.models import AttemptCounter, LoginSession, Role
from accounts.oauth_demo import DEMO_CLIENT_ID, register_demo_application
from accounts.tests.factories import PASSWORD
from shop_common.auth import OAUTH_TOKEN_SHAPE, session_stamp

pytestmark = pytest.mark.django_db

Application = get_application_model()


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def shop_service_token(client, name: str, scope: str = "internal") -> str:
    secret = f"{name}-client-secret-0123456789"
    if not Application.objects.filter(client_id=f"shop-{name}").exists():
        call_command("create_service_client", name, "--client-secret", secret)
    response = client.post(
        "/o/token/",
        urlencode({"grant_type": "client_credentials", "scope": scope}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(f"shop-{name}", secret),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def application(client_id: str, grant: str, client_type: str = "confidential", **fields):
    app = Application(
        client_id=client_id,
        name=client_id,
        client_type=client_type,
        authorization_grant_type=grant,
        client_secret="app-secret-0123456789",
        redirect_uris="http://testserver/callback/",
        algorithm="",
        **fields,
    )
    app.save()
    return app


# --- the OAuth surface -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/o/applications/",
        "/o/applications/register/",
        "/o/authorized_tokens/",
        "/o/.well-known/openid-configuration",
        "/o/.well-known/oauth-authorization-server",
        "/o/userinfo/",
        "/o/device-authorization/",
        "/o/register/",
    ],
)
def test_library_views_the_shop_does_not_use_are_not_mounted(client, customer, path):
    client.force_login(customer)

    assert client.get(path).status_code == 404
    assert client.post(path, {"name": "mine"}).status_code == 404


def test_a_password_grant_is_refused_even_to_an_application_registered_for_it(client, staff):
    application("legacy-app", Application.GRANT_PASSWORD)

    response = client.post(
        "/o/token/",
        {"grant_type": "password", "username": staff.email, "password": PASSWORD},
        HTTP_AUTHORIZATION=basic("legacy-app", "app-secret-0123456789"),
    )

    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()


def test_only_a_first_party_application_may_act_for_a_person(client, customer):
    application("third-party", Application.GRANT_AUTHORIZATION_CODE)
    client.force_login(customer)
    query = {
        "response_type": "code",
        "client_id": "third-party",
        "redirect_uri": "http://testserver/callback/",
        "scope": "read",
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
    }

    response = client.get("/o/authorize/?" + urlencode(query))

    assert response.status_code in (302, 400)
    assert "code=" not in response.get("Location", "")


def test_the_implicit_grant_is_off(client, customer):
    register_demo_application(["http://testserver/oauth/"])
    client.force_login(customer)
    query = {
        "response_type": "token",
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": "http://testserver/oauth/",
        "scope": "read",
    }

    response = client.get("/o/authorize/?" + urlencode(query))

    assert "access_token=" not in response.get("Location", "")


def test_the_internal_scope_is_for_the_six_shop_clients_only(client):
    application("shop-evil", Application.GRANT_CLIENT_CREDENTIALS)

    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "internal"},
        HTTP_AUTHORIZATION=basic("shop-evil", "app-secret-0123456789"),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_minted_tokens_have_the_shape_the_other_services_expect(client):
    assert OAUTH_TOKEN_SHAPE.fullmatch(shop_service_token(client, "order"))


def test_tokens_are_stored_as_checksums_only(client):
    shop_service_token(client, "order")

    assert set(get_access_token_model().objects.values_list("token", flat=True)) == {""}


def test_introspection_takes_no_client_secret(client):
    shop_service_token(client, "product")
    token = shop_service_token(client, "order")

    response = client.post(
        "/o/introspect/",
        {"token": token},
        HTTP_AUTHORIZATION=basic("shop-product", "product-client-secret-0123456789"),
    )

    assert response.status_code == 401


def test_introspection_takes_no_client_id_in_the_body_either(client):
    """django-oauth-toolkit's introspection first tries client authentication from the body, and
    takes a public client's id alone with the device-code grant type; the shop's view skips that
    step (accounts.oauth.IntrospectTokenView.authenticate_client), so a bearer without the scope
    is refused whatever the body says."""
    public = get_application_model().objects.create(
        name="a public app",
        client_id="public-app-0123456789",
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="http://testserver/cb/",
    )
    token = shop_service_token(client, "order")

    response = client.post(
        "/o/introspect/",
        {
            "token": token,
            "client_id": public.client_id,
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        },
        HTTP_AUTHORIZATION="Bearer not-a-token-of-ours-0123456789abcdef",
    )

    assert response.status_code in (401, 403)
    assert "client_id" not in response.content.decode()


def test_an_introspection_reads_two_tokens_and_nothing_else(client, django_assert_num_queries):
    """The caller's bearer token and the token asked about (docs/development.md, "Counting
    SQL statements"): no look for a client in the body."""
    token = shop_service_token(client, "order")
    introspector = shop_service_token(client, "product", scope="introspection")

    with django_assert_num_queries(2):
        answered = client.post(
            "/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=f"Bearer {introspector}"
        )
    assert answered.json()["client_id"] == "shop-order"


def test_introspection_needs_the_introspection_scope(client):
    token = shop_service_token(client, "order")
    internal_only = shop_service_token(client, "product")
    introspector = shop_service_token(client, "product", scope="introspection")

    refused = client.post(
        "/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=f"Bearer {internal_only}"
    )
    answered = client.post(
        "/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=f"Bearer {introspector}"
    )

    assert refused.status_code == 403
    assert answered.status_code == 200
    assert answered.json()["client_id"] == "shop-order"


def test_the_oauth_page_never_learns_a_redirect_uri_from_the_host(client, settings):
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
    settings.OAUTH_DEMO_REDIRECT_URIS = ["http://testserver/oauth/"]
    register_demo_application(settings.OAUTH_DEMO_REDIRECT_URIS)

    served = client.get("/oauth/")
    elsewhere = client.get("/oauth/", HTTP_HOST="127.0.0.1:9999")

    assert served.status_code == 200
    assert elsewhere.status_code == 302
    assert elsewhere["Location"] == "http://testserver/oauth/"
    demo = Application.objects.get(client_id=DEMO_CLIENT_ID)
    assert demo.redirect_uris == "http://testserver/oauth/"


def test_setup_service_sets_the_oauth_pages_redirect_uris_from_configuration(settings):
    settings.OAUTH_DEMO_REDIRECT_URIS = ["https://shop.example/oauth/"]
    register_demo_application(["http://old.example/oauth/", "http://127.0.0.1:9999/oauth/"])

    call_command("setup_service")

    demo = Application.objects.get(client_id=DEMO_CLIENT_ID)
    assert demo.redirect_uris == "https://shop.example/oauth/"


# --- brute force -------------------------------------------------------------------------------


@pytest.fixture
def strict(settings):
    settings.PASSWORD_FAILURES_PER_ACCOUNT = "3/15m"
    settings.PASSWORD_FAILURES_PER_ADDRESS = "5/15m"
    return settings


def test_the_html_login_refuses_even_the_right_password_after_too_many_failures(
    client, strict, admin_user
):
    for _ in range(3):
        client.post("/login/", {"username": admin_user.email, "password": "guess"})

    response = client.post("/login/", {"username": admin_user.email, "password": PASSWORD})

    assert response.status_code == 200
    assert b"Too many failed attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_the_admin_login_refuses_even_the_right_password_after_too_many_failures(
    client, strict, admin_user
):
    for _ in range(3):
        client.post("/admin/login/", {"username": admin_user.email, "password": "guess"})

    response = client.post(
        "/admin/login/?next=/admin/", {"username": admin_user.email, "password": PASSWORD}
    )

    assert response.status_code == 200
    assert b"Too many failed attempts" in response.content


def test_a_client_secret_is_throttled_like_a_password(client, strict):
    shop_service_token(client, "order")
    for _ in range(3):
        client.post(
            "/o/token/",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic("shop-order", "guess"),
        )

    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic("shop-order", "order-client-secret-0123456789"),
    )

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_x_forwarded_for_from_a_client_with_no_trusted_proxy_changes_nothing(api_client, strict):
    strict.TRUSTED_PROXIES = 0
    for n in range(5):
        api_client.post(
            "/auth/login/",
            {"email": f"guess{n}@shop.test", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )

    response = api_client.post(
        "/auth/login/",
        {"email": "other@shop.test", "password": "x"},
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )

    assert response.status_code == 429


def test_with_a_trusted_proxy_only_the_hop_it_wrote_counts(api_client, strict):
    strict.TRUSTED_PROXIES = 1
    for n in range(5):
        # The client makes up the first entry; the proxy appends the address it saw.
        api_client.post(
            "/auth/login/",
            {"email": f"guess{n}@shop.test", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.5",
        )

    same_client = api_client.post(
        "/auth/login/",
        {"email": "other@shop.test", "password": "x"},
        HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5",
    )
    another_client = api_client.post(
        "/auth/login/",
        {"email": "other@shop.test", "password": "x"},
        HTTP_X_FORWARDED_FOR="203.0.113.6",
    )

    assert same_client.status_code == 429
    assert another_client.status_code == 401


def test_signup_is_throttled_per_address_whatever_x_forwarded_for_says(api_client, settings):
    settings.SIGNUP_RATE_PER_IP = "2/hour"
    answers = [
        api_client.post(
            "/auth/signup/",
            {"email": f"new{n}@shop.test", "password": PASSWORD},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(3)
    ]

    assert answers == [201, 201, 429]


def test_without_redis_the_failures_are_counted_in_the_database(api_client, strict, customer):
    api_client.post("/auth/login/", {"email": customer.email, "password": "guess"})
    api_client.post("/auth/login/", {"email": customer.email, "password": "guess"})

    assert sorted(AttemptCounter.objects.values_list("count", flat=True)) == [2, 2]


def test_a_successful_login_is_not_a_failure(api_client, strict, customer):
    for _ in range(4):
        assert (
            api_client.post(
                "/auth/login/", {"email": customer.email, "password": PASSWORD}
            ).status_code
            == 200
        )
    assert not AttemptCounter.objects.exists()


def redis_cache(location: str, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
        }
    }


def test_with_redis_the_failures_are_counted_there(api_client, strict, customer, redis_location):
    # A Redis of the session's own: clear() empties the whole Redis database, not one prefix.
    with override_settings(CACHES=redis_cache(redis_location, f"throttle-{uuid.uuid4().hex[:8]}")):
        cache.set("probe", 1)
        for _ in range(3):
            api_client.post("/auth/login/", {"email": customer.email, "password": "guess"})
        response = api_client.post("/auth/login/", {"email": customer.email, "password": PASSWORD})
        cache.clear()

    assert response.status_code == 429
    assert not AttemptCounter.objects.exists()


# --- the staff admins' sessions (product and payment services) ---------------------------------


def test_the_product_service_opens_a_staff_session_with_the_persons_address(api_client, staff):
    token = shop_service_token(api_client, "product")

    response = api_client.post(
        "/internal/staff-sessions/",
        {"email": staff.email, "password": PASSWORD, "client_address": "203.0.113.9"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 201
    session = LoginSession.objects.get(pk=response.json()["session_id"])
    assert session.ip_address == "203.0.113.9"
    assert response.json()["user"]["roles"] == ["STAFF"]


def test_staff_session_guessing_counts_against_the_persons_address(api_client, strict, staff):
    token = shop_service_token(api_client, "product")
    for n in range(5):
        api_client.post(
            "/internal/staff-sessions/",
            {"email": f"who{n}@shop.test", "password": "x", "client_address": "203.0.113.9"},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    response = api_client.post(
        "/internal/staff-sessions/",
        {"email": staff.email, "password": PASSWORD, "client_address": "203.0.113.9"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 429


@pytest.mark.parametrize(
    ("caller", "status"),
    [("product", 201), ("payment", 201), ("order", 403), ("cart", 403), ("integration", 403)],
)
def test_only_the_services_with_a_staff_admin_open_staff_sessions(
    api_client, staff, caller, status
):
    token = shop_service_token(api_client, caller)

    response = api_client.post(
        "/internal/staff-sessions/",
        {"email": staff.email, "password": PASSWORD, "client_address": "127.0.0.1"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == status


def test_a_user_token_does_not_open_the_internal_endpoints(api_client, admin_user, tokens_for):
    response = api_client.post(
        "/internal/staff-sessions/",
        {"email": admin_user.email, "password": PASSWORD, "client_address": "127.0.0.1"},
        HTTP_AUTHORIZATION=f"Bearer {tokens_for(admin_user).access}",
    )

    assert response.status_code == 401


@pytest.mark.parametrize("caller", ["product", "payment"])
def test_a_session_check_follows_deactivation_role_changes_and_logout(api_client, staff, caller):
    token = shop_service_token(api_client, caller)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    opened = api_client.post(
        "/internal/staff-sessions/",
        {"email": staff.email, "password": PASSWORD, "client_address": "127.0.0.1"},
        **headers,
    ).json()
    path = f"/internal/sessions/{opened['session_id']}/"

    assert api_client.get(path, **headers).json()["active"] is True
    services.set_roles(user=staff, role_names=[Role.CUSTOMER])
    assert api_client.get(path, **headers).json()["user"]["roles"] == ["CUSTOMER"]
    assert api_client.delete(path, **headers).status_code == 204
    assert api_client.get(path, **headers).json()["active"] is False
    assert api_client.get(f"/internal/sessions/{uuid.uuid4()}/", **headers).status_code == 404


def test_a_service_without_a_staff_admin_cannot_check_or_end_a_staff_session(api_client, staff):
    opened = api_client.post(
        "/internal/staff-sessions/",
        {"email": staff.email, "password": PASSWORD, "client_address": "127.0.0.1"},
        HTTP_AUTHORIZATION=f"Bearer {shop_service_token(api_client, 'payment')}",
    ).json()
    path = f"/internal/sessions/{opened['session_id']}/"
    order = {"HTTP_AUTHORIZATION": f"Bearer {shop_service_token(api_client, 'order')}"}

    assert api_client.get(path, **order).status_code == 403
    assert api_client.delete(path, **order).status_code == 403
    assert LoginSession.objects.get(pk=opened["session_id"]).revoked_at is None


def test_a_role_change_stamps_the_users_live_sessions(
    staff, tokens_for, django_capture_on_commit_callbacks
):
    session_id = tokens_for(staff).session_id
    before = session_stamp(session_id)

    with django_capture_on_commit_callbacks(execute=True):
        services.set_roles(user=staff, role_names=[Role.CUSTOMER])

    assert session_stamp(session_id) not in (None, before)


def test_an_oauth_token_reports_its_scopes_when_validated(api_client, customer, settings):
    demo = register_demo_application(["http://testserver/oauth/"])
    token = get_access_token_model()(
        user=customer, application=demo, scope="read", expires="2999-01-01T00:00:00Z"
    )
    token.token = "R" * 30
    token.save()

    answer = api_client.post("/auth/validate/", {"token": "R" * 30}).json()

    assert answer["scopes"] == ["read"]


def test_an_oauth_token_of_an_application_that_is_not_first_party_is_refused(api_client, customer):
    third = application("third-party", Application.GRANT_AUTHORIZATION_CODE)
    token = get_access_token_model()(
        user=customer, application=third, scope="read write", expires="2999-01-01T00:00:00Z"
    )
    token.token = "T" * 30
    token.save()

    assert api_client.post("/auth/validate/", {"token": "T" * 30}).status_code == 401
