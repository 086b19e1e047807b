"""Validation from the session state kept in a shared Redis: a hit runs no SQL, and every path that
changes what a validation answers (or whether it answers) is seen by the very next one."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import services, session_state
from accounts.models import Role, User
from accounts.session_state import state_key
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.test_trust_boundaries import shop_service_token
from accounts.tokens import TokenPair
from shop_common.auth import mark_sessions_changed


def json_client(token: str = "") -> APIClient:
    client = APIClient()
    client.default_format = "json"
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def validate(token: str):
    return json_client().post("/auth/validate/", {"token": token})


def validated_from_the_cache(token: str, django_assert_num_queries) -> dict:
    """The validation of a token whose session state the cache holds: no SQL."""
    with django_assert_num_queries(0):
        response = validate(token)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_validation_found_in_the_shared_cache_runs_no_sql(
    shared_cache, customer, tokens_for, django_assert_num_queries
):
    access = tokens_for(customer).access
    with django_assert_num_queries(1):
        first = validate(access)

    again = validated_from_the_cache(access, django_assert_num_queries)

    assert first.status_code == 200
    assert again == first.json()
    assert again["email"] == customer.email
    assert again["roles"] == ["CUSTOMER"]


def test_a_login_keeps_the_state_for_its_first_validation(
    shared_cache,
    customer,
    tokens_for,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        access = tokens_for(customer).access

    validated_from_the_cache(access, django_assert_num_queries)


def test_a_refresh_keeps_the_state_for_the_new_access_token(
    shared_cache,
    customer,
    tokens_for,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    refresh = tokens_for(customer).refresh
    with django_capture_on_commit_callbacks(execute=True):
        pair = services.refresh_session(refresh=refresh)

    validated_from_the_cache(pair.access, django_assert_num_queries)


def test_without_a_shared_cache_every_validation_reads_the_database(
    customer, tokens_for, django_assert_num_queries
):
    # The local-memory cache is one per server worker: an entry there would outlive a logout
    # handled by another worker (docs/auth.md, "Validation").
    access = tokens_for(customer).access

    for _ in range(3):
        with django_assert_num_queries(1):
            assert validate(access).status_code == 200


def test_a_state_kept_under_another_stamp_is_read_again(
    shared_cache, customer, tokens_for, django_assert_num_queries
):
    pair = tokens_for(customer)
    validate(pair.access)
    validated_from_the_cache(pair.access, django_assert_num_queries)

    mark_sessions_changed([pair.session_id], for_seconds=60)

    with django_assert_num_queries(1):
        assert validate(pair.access).status_code == 200
    validated_from_the_cache(pair.access, django_assert_num_queries)


def test_a_logout_that_commits_while_a_validation_reads_the_database_is_not_missed(
    shared_cache, customer, tokens_for, monkeypatch, django_capture_on_commit_callbacks
):
    pair = tokens_for(customer)
    read_as_it_was = session_state._read_database

    def read_then_logout(session_id: str):
        state = read_as_it_was(session_id)  # still live ...
        with django_capture_on_commit_callbacks(execute=True):  # ... and then it ends
            services.logout(access=pair.access, refresh=None)
        return state

    monkeypatch.setattr(session_state, "_read_database", read_then_logout)
    assert validate(pair.access).status_code == 200
    monkeypatch.setattr(session_state, "_read_database", read_as_it_was)

    assert validate(pair.access).status_code == 401, "the state read before the logout was kept"


@dataclass
class Scene:
    user: User
    pair: TokenPair
    admin_api: APIClient
    own_api: APIClient
    django_admin: Client


@pytest.fixture
def scene(shared_cache, customer, admin_user, tokens_for) -> Scene:
    pair = tokens_for(customer)
    admin_api = json_client(tokens_for(admin_user).access)
    own_api = json_client(pair.access)
    django_admin = Client()
    django_admin.force_login(admin_user)
    return Scene(customer, pair, admin_api, own_api, django_admin)


def admin_change_form(scene: Scene, **changes) -> dict:
    user = scene.user
    form = {
        "email": user.email,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone_number": user.phone_number,
        "is_active": "on",
        "roles": [role.pk for role in user.roles.all()],
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def logout(scene: Scene):
    return scene.own_api.post("/auth/logout/")


def revoked_in_the_django_admin(scene: Scene):
    return scene.django_admin.post(
        "/admin/accounts/loginsession/",
        {"action": "revoke", "_selected_action": [scene.pair.session_id]},
    )


def ended_by_the_product_admin(scene: Scene):
    product = json_client(shop_service_token(APIClient(), "product"))
    return product.delete(f"/internal/sessions/{scene.pair.session_id}/")


def deactivated(scene: Scene):
    return scene.admin_api.delete(f"/users/{scene.user.pk}/")


def deactivated_by_an_edit(scene: Scene):
    return scene.admin_api.patch(f"/users/{scene.user.pk}/", {"is_active": False})


def deactivated_in_the_django_admin(scene: Scene):
    form = admin_change_form(scene, is_active=None)
    return scene.django_admin.post(f"/admin/accounts/user/{scene.user.pk}/change/", form)


def deleted_in_the_django_admin(scene: Scene):
    return scene.django_admin.post(f"/admin/accounts/user/{scene.user.pk}/delete/", {"post": "yes"})


def session_deleted_in_the_django_admin(scene: Scene):
    path = f"/admin/accounts/loginsession/{scene.pair.session_id}/delete/"
    return scene.django_admin.post(path, {"post": "yes"})


def roles_replaced(scene: Scene):
    return scene.admin_api.post(f"/users/{scene.user.pk}/roles/", {"roles": ["STAFF"]})


def roles_replaced_in_the_django_admin(scene: Scene):
    staff = Role.objects.get(name=Role.STAFF).pk
    form = admin_change_form(scene, roles=[staff])
    return scene.django_admin.post(f"/admin/accounts/user/{scene.user.pk}/change/", form)


def email_changed(scene: Scene):
    return scene.admin_api.patch(f"/users/{scene.user.pk}/", {"email": "renamed@shop.test"})


def email_changed_in_the_django_admin(scene: Scene):
    form = admin_change_form(scene, email="renamed@shop.test")
    return scene.django_admin.post(f"/admin/accounts/user/{scene.user.pk}/change/", form)


def username_changed_by_its_owner(scene: Scene):
    return scene.own_api.patch(f"/users/{scene.user.pk}/", {"username": "renamed"})


def phone_changed_by_its_owner(scene: Scene):
    return scene.own_api.patch(f"/users/{scene.user.pk}/", {"phone_number": "+1 555 0100"})


REFUSED = ("status", 401)


CHANGES = [
    (logout, REFUSED),
    (revoked_in_the_django_admin, REFUSED),
    (ended_by_the_product_admin, REFUSED),
    (deactivated, REFUSED),
    (deactivated_by_an_edit, REFUSED),
    (deactivated_in_the_django_admin, REFUSED),
    (deleted_in_the_django_admin, REFUSED),
    (session_deleted_in_the_django_admin, REFUSED),
    (roles_replaced, ("roles", ["STAFF"])),
    (roles_replaced_in_the_django_admin, ("roles", ["STAFF"])),
    (email_changed, ("email", "renamed@shop.test")),
    (email_changed_in_the_django_admin, ("email", "renamed@shop.test")),
    (username_changed_by_its_owner, ("username", "renamed")),
    (phone_changed_by_its_owner, ("phone_number", "+1 555 0100")),
]


@pytest.mark.parametrize(
    ("change", "next_validation"), CHANGES, ids=[change.__name__ for change, _ in CHANGES]
)
def test_a_change_is_seen_by_the_next_validation(
    scene: Scene,
    change: Callable[[Scene], object],
    next_validation: tuple[str, object],
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    access = scene.pair.access
    validate(access)
    before = validated_from_the_cache(access, django_assert_num_queries)
    name, expected = next_validation
    assert before.get(name) != expected

    with django_capture_on_commit_callbacks(execute=True):
        outcome = change(scene)
    after = validate(access)

    assert getattr(outcome, "status_code", 200) in (200, 204, 302, 401), outcome
    if next_validation == REFUSED:
        assert after.status_code == 401
    else:
        assert after.status_code == 200
        assert after.json()[name] == expected


def test_a_refresh_token_used_twice_ends_the_session_for_the_next_validation(
    shared_cache,
    customer,
    tokens_for,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    first = tokens_for(customer)
    with django_capture_on_commit_callbacks(execute=True):
        rotated = services.refresh_session(refresh=first.refresh)
    validated_from_the_cache(rotated.access, django_assert_num_queries)

    with django_capture_on_commit_callbacks(execute=True):
        reused = json_client().post("/auth/refresh/", {"refresh": first.refresh})

    assert reused.status_code == 401
    assert validate(rotated.access).status_code == 401


@dataclass
class ClerkScene:
    clerk: Role
    access: str
    django_admin: Client


@pytest.fixture
def clerk_scene(shared_cache, admin_user, tokens_for, django_assert_num_queries) -> ClerkScene:
    """A user with the role CLERK whose validation the cache holds, and the Django admin logged in
    as an ADMIN."""
    clerk = services.create_role(name="CLERK")
    user = UserFactory(roles=[Role.CUSTOMER, "CLERK"])
    access = tokens_for(user).access
    validate(access)
    assert validated_from_the_cache(access, django_assert_num_queries)["roles"] == [
        "CLERK",
        "CUSTOMER",
    ]
    django_admin = Client()
    django_admin.force_login(admin_user)
    return ClerkScene(clerk, access, django_admin)


def test_a_role_renamed_in_the_django_admin_is_seen_by_the_next_validation(
    clerk_scene, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        renamed = clerk_scene.django_admin.post(
            f"/admin/accounts/role/{clerk_scene.clerk.pk}/change/",
            {"name": "SHOPHAND", "description": ""},
        )

    assert renamed.status_code == 302
    assert validate(clerk_scene.access).json()["roles"] == ["CUSTOMER", "SHOPHAND"]


def test_a_role_deleted_in_the_django_admin_is_seen_by_the_next_validation(
    clerk_scene, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deleted = clerk_scene.django_admin.post(
            f"/admin/accounts/role/{clerk_scene.clerk.pk}/delete/", {"post": "yes"}
        )

    assert deleted.status_code == 302
    assert validate(clerk_scene.access).json()["roles"] == ["CUSTOMER"]


def test_the_kept_state_is_the_sessions_and_names_no_token(shared_cache, customer, tokens_for):
    from django.core.cache import cache

    pair = tokens_for(customer)
    validate(pair.access)

    entry = cache.get(state_key(pair.session_id))

    assert entry is not None
    assert pair.access not in repr(entry)
    assert PASSWORD not in repr(entry)
