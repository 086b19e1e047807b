"""Users and roles: who may see and change what (anonymous, CUSTOMER, STAFF, ADMIN)."""

import pytest

from accounts.models import LoginSession, Role, User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ROLES_OF = {"anonymous": None, "customer": Role.CUSTOMER, "staff": Role.STAFF, "admin": Role.ADMIN}


@pytest.fixture
def caller(request, client_as):
    role = ROLES_OF[request.param]
    user = UserFactory(roles=[role]) if role else None
    return client_as(user), user


ADMIN_ONLY = [
    ("get", "/users/", None),
    ("post", "/users/", {"email": "made@shop.test", "password": PASSWORD}),
    ("get", "/users/{target}/roles/", None),
    ("post", "/users/{target}/roles/", {"roles": ["STAFF"]}),
    ("get", "/roles/", None),
    ("post", "/roles/", {"name": "AUDITOR"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY)
@pytest.mark.parametrize(
    ("caller", "status"),
    [("anonymous", 401), ("customer", 403), ("staff", 403), ("admin", (200, 201))],
    indirect=["caller"],
)
def test_admin_only_endpoints(caller, status, method, path, body, customer):
    client, _ = caller

    response = getattr(client, method)(path.format(target=customer.id), body)

    expected = status if isinstance(status, tuple) else (status,)
    assert response.status_code in expected
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"] == "not_authenticated"
    if response.status_code == 403:
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("caller", "status"),
    [("anonymous", 401), ("customer", 404), ("staff", 404), ("admin", 200)],
    indirect=["caller"],
)
@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_another_users_account_is_hidden_unless_admin(caller, status, method, other_customer):
    client, _ = caller

    response = getattr(client, method)(f"/users/{other_customer.id}/", {"first_name": "X"})

    expected = (204,) if status == 200 and method == "delete" else (status,)
    assert response.status_code in expected
    if status == 404:
        assert response.json()["error"]["code"] == "user_not_found"
        other_customer.refresh_from_db()
        assert other_customer.first_name == ""
        assert other_customer.is_active


@pytest.mark.parametrize("caller", ["customer", "staff", "admin"], indirect=True)
def test_everyone_sees_and_edits_their_own_profile(caller):
    client, user = caller

    assert client.get(f"/users/{user.id}/").json()["email"] == user.email
    response = client.patch(f"/users/{user.id}/", {"first_name": "Ann", "phone_number": "+3312345"})

    assert response.status_code == 200
    assert response.json()["first_name"] == "Ann"
    assert response.json()["phone_number"] == "+3312345"


@pytest.mark.parametrize("field", [{"email": "new@shop.test"}, {"is_active": False}])
def test_a_customer_may_not_change_their_email_or_active_flag(client_as, customer, field):
    response = client_as(customer).patch(f"/users/{customer.id}/", field)

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == set(field)


def test_unknown_user_id_is_a_404_for_an_admin(client_as, admin_user):
    response = client_as(admin_user).get("/users/999999/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "user_not_found"


def test_deleting_an_account_deactivates_it_and_revokes_every_session(
    client_as, api_client, customer, tokens_for
):
    other_session = tokens_for(customer)
    client = client_as(customer)

    assert client.delete(f"/users/{customer.id}/").status_code == 204

    customer.refresh_from_db()
    assert not customer.is_active
    assert not LoginSession.objects.filter(user=customer, revoked_at__isnull=True).exists()
    assert api_client.post("/auth/validate/", {"token": other_session.access}).status_code == 401
    assert (
        api_client.post("/auth/login/", {"email": customer.email, "password": PASSWORD}).status_code
        == 401
    )


def test_admin_deactivating_a_user_revokes_their_sessions(
    client_as, api_client, admin_user, customer, tokens_for
):
    pair = tokens_for(customer)

    response = client_as(admin_user).patch(f"/users/{customer.id}/", {"is_active": False})

    assert response.status_code == 200
    assert api_client.post("/auth/validate/", {"token": pair.access}).status_code == 401


def test_admin_lists_users_paginated_and_filtered(client_as, admin_user, staff):
    UserFactory.create_batch(3, roles=[Role.CUSTOMER])
    UserFactory(email="quiet@shop.test", is_active=False)
    client = client_as(admin_user)

    everyone = client.get("/users/?page_size=2").json()
    staff_only = client.get("/users/?role=staff").json()
    inactive = client.get("/users/?active=false").json()
    by_email = client.get("/users/?email=QUIET").json()

    assert everyone["count"] == User.objects.count()
    assert len(everyone["results"]) == 2
    assert everyone["next"]
    assert [user["id"] for user in staff_only["results"]] == [staff.id]
    assert [user["email"] for user in inactive["results"]] == ["quiet@shop.test"]
    assert [user["email"] for user in by_email["results"]] == ["quiet@shop.test"]


def test_bad_filter_value_is_a_400(client_as, admin_user):
    response = client_as(admin_user).get("/users/?active=perhaps")

    assert response.status_code == 400
    assert "active" in response.json()["error"]["details"]


def test_admin_creates_a_user_with_roles(client_as, admin_user):
    response = client_as(admin_user).post(
        "/users/", {"email": "Clerk@Shop.test", "password": PASSWORD, "roles": ["STAFF"]}
    )

    assert response.status_code == 201
    assert response.json()["roles"] == ["STAFF"]
    assert User.objects.get(email="clerk@shop.test").check_password(PASSWORD)


def test_admin_creating_a_user_with_an_unknown_role_is_a_400_and_creates_nothing(
    client_as, admin_user
):
    response = client_as(admin_user).post(
        "/users/", {"email": "x@shop.test", "password": PASSWORD, "roles": ["WIZARD"]}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_roles"
    assert not User.objects.filter(email="x@shop.test").exists()


def test_roles_are_replaced_by_names_or_ids(client_as, admin_user, customer):
    client = client_as(admin_user)
    staff_role = Role.objects.get(name=Role.STAFF)

    by_name = client.post(f"/users/{customer.id}/roles/", {"roles": ["staff", "CUSTOMER"]})
    by_id = client.post(f"/users/{customer.id}/roles/", {"role_ids": [staff_role.id]})

    assert sorted(role["name"] for role in by_name.json()["roles"]) == ["CUSTOMER", "STAFF"]
    assert [role["name"] for role in by_id.json()["roles"]] == ["STAFF"]
    assert customer.role_names() == ["STAFF"]


@pytest.mark.parametrize(
    "body", [{"role_ids": [99999]}, {"roles": ["NOPE"]}, {"roles": ["STAFF", "NOPE"]}, {}]
)
def test_unknown_roles_are_a_400_and_change_nothing(client_as, admin_user, customer, body):
    response = client_as(admin_user).post(f"/users/{customer.id}/roles/", body)

    assert response.status_code == 400
    assert customer.role_names() == ["CUSTOMER"]


def test_granting_admin_opens_the_django_admin_and_taking_it_away_closes_it(
    client_as, admin_user, customer
):
    client = client_as(admin_user)

    client.post(f"/users/{customer.id}/roles/", {"roles": ["ADMIN"]})
    customer.refresh_from_db()
    assert customer.is_staff
    assert customer.is_superuser

    client.post(f"/users/{customer.id}/roles/", {"roles": ["CUSTOMER"]})
    customer.refresh_from_db()
    assert not customer.is_staff
    assert not customer.is_superuser


def test_role_changes_show_in_the_next_validation(
    client_as, api_client, admin_user, customer, tokens_for
):
    access = tokens_for(customer).access

    client_as(admin_user).post(f"/users/{customer.id}/roles/", {"roles": ["STAFF"]})

    assert api_client.post("/auth/validate/", {"token": access}).json()["roles"] == ["STAFF"]


def test_roles_list_and_create(client_as, admin_user):
    client = client_as(admin_user)

    created = client.post("/roles/", {"name": "auditor", "description": "reads"})
    duplicate = client.post("/roles/", {"name": "AUDITOR"})
    listed = client.get("/roles/").json()

    assert created.status_code == 201
    assert created.json()["name"] == "AUDITOR"
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "role_exists"
    assert {"ADMIN", "STAFF", "CUSTOMER", "AUDITOR"} <= {role["name"] for role in listed["results"]}


@pytest.mark.parametrize("name", ["", "1BAD", "has space", "x" * 40])
def test_bad_role_names_are_a_400(client_as, admin_user, name):
    assert client_as(admin_user).post("/roles/", {"name": name}).status_code == 400
