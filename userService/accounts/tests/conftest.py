import pytest

from accounts import services
from accounts.models import Role
from accounts.tests.factories import PASSWORD, UserFactory


@pytest.fixture
def customer(db):
    return UserFactory(roles=[Role.CUSTOMER])


@pytest.fixture
def other_customer(db):
    return UserFactory(roles=[Role.CUSTOMER])


@pytest.fixture
def staff(db):
    return UserFactory(roles=[Role.STAFF])


@pytest.fixture
def admin_user(db):
    return UserFactory(roles=[Role.ADMIN])


@pytest.fixture
def tokens_for():
    def issue(user):
        _, pair = services.login(
            email=user.email, password=PASSWORD, ip_address="127.0.0.1", user_agent="tests"
        )
        return pair

    return issue


@pytest.fixture
def client_as(api_client, tokens_for):
    """An API client with the bearer token of ``user`` (None: anonymous)."""

    def as_user(user):
        if user is not None:
            api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user).access}")
        return api_client

    return as_user
