import pytest

from catalog.tests.factories import CategoryFactory, ProductFactory


@pytest.fixture
def as_service(api_client, user_service):
    def client(*scopes: str):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_service.service_token(*scopes)}")
        return api_client

    return client


@pytest.fixture
def category(db):
    return CategoryFactory(name="Books", slug="books")


@pytest.fixture
def product(category):
    return ProductFactory(
        title="Refactoring", sku="BOOK-1", category=category, price="44.50", stock_on_hand=10
    )
