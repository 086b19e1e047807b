"""The public catalog and the staff writes, with their denials and their cache."""

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.apis import ProductOutput
from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory
from shop_common.renderers import JSONRenderer

pytestmark = pytest.mark.django_db

NEW_PRODUCT = {"title": "Accelerate", "sku": "BOOK-2", "price": "24.99", "quantity": 7}


def error_code(response) -> str:
    return response.json()["error"]["code"]


# --- reading ---------------------------------------------------------------------------------


def test_anyone_lists_active_products_with_the_contract_fields(role_client, product):
    ProductFactory(is_active=False)

    body = role_client(None).get("/products/").json()

    assert body["count"] == 1
    (item,) = body["results"]
    assert item == {
        "id": product.id,
        "title": "Refactoring",
        "slug": product.slug,
        "description": "",
        "sku": "BOOK-1",
        "price": "44.50",
        "currency": "USD",
        "quantity": 10,
        "available": 10,
        "category": product.category_id,
        "image_url": "",
        "is_active": True,
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    }


def test_staff_also_see_inactive_products_and_can_filter_on_them(role_client, product):
    hidden = ProductFactory(is_active=False)

    everything = role_client("STAFF").get("/products/").json()
    inactive = role_client("STAFF").get("/products/?is_active=false").json()

    assert everything["count"] == 2
    assert [item["id"] for item in inactive["results"]] == [hidden.id]


def test_pages_default_to_20_and_stop_at_100(role_client, category):
    ProductFactory.create_batch(25, category=category)
    client = role_client(None)

    assert len(client.get("/products/").json()["results"]) == 20
    assert len(client.get("/products/?page_size=100").json()["results"]) == 25
    assert client.get("/products/?page_size=101").status_code == 400


def test_filters_by_category_price_stock_and_search(role_client, category):
    other = CategoryFactory()
    cheap = ProductFactory(
        title="Paper filters", price="6.99", category=category, description="for coffee"
    )
    dear = ProductFactory(title="Kettle", price="64.90", category=category, sku="KET-1")
    sold_out = ProductFactory(title="Grinder", price="89.00", category=other, stock_on_hand=0)
    client = role_client(None)

    def ids(query: str) -> set[int]:
        response = client.get(f"/products/?{query}")
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["results"]}

    assert ids(f"category={category.id}") == {cheap.id, dear.id}
    assert ids("min_price=10&max_price=70") == {dear.id}
    assert ids("in_stock=true") == {cheap.id, dear.id}
    assert ids("in_stock=false") == {sold_out.id}
    assert ids("q=coffee") == {cheap.id}
    assert ids("q=ket-1") == {dear.id}
    assert ids("q=kettle") == {dear.id}


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["b", "a", "c"]),
        ("-price", ["c", "a", "b"]),
        ("title", ["a", "b", "c"]),
        ("newest", ["c", "b", "a"]),
    ],
)
def test_ordering(role_client, category, ordering, expected):
    for title, price in (("a", "5.00"), ("b", "1.00"), ("c", "9.00")):
        ProductFactory(title=title, price=price, category=category)

    results = role_client(None).get(f"/products/?ordering={ordering}").json()["results"]

    assert [item["title"] for item in results] == expected


@pytest.mark.parametrize(
    "query",
    ["ordering=colour", "min_price=cheap", "category=999999", "in_stock=perhaps", "page_size=0"],
)
def test_bad_list_parameters_are_a_400(role_client, product, query):
    response = role_client(None).get(f"/products/?{query}")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"


def test_an_unknown_parameter_is_ignored_and_the_filters_still_apply(role_client, product):
    """The list skips django-filter when no parameter is one of its filters
    (shop_common.filters): an unknown one changes nothing, and neither the filters' 400 nor the
    public's view of inactive products depends on it."""
    hidden = ProductFactory(is_active=False)
    public, staff = role_client(None), role_client("STAFF")

    def ids(client, query: str) -> list[int]:
        return [item["id"] for item in client.get(f"/products/?{query}").json()["results"]]

    assert ids(public, "nocache=1") == ids(public, "") == [product.id]
    assert ids(staff, "nocache=1") == [hidden.id, product.id]
    assert ids(staff, "nocache=1&is_active=false") == [hidden.id]
    refused = public.get("/products/?nocache=1&min_price=cheap")
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "validation_error",
        "message": "The request has invalid fields.",
        "details": {"min_price": ["Enter a number."]},
    }


def test_each_list_entry_is_what_the_product_output_answers(role_client, db):
    """A list's page is built from rows by hand (catalog.selectors.product_answers); each entry
    must be what ProductOutput, the documented schema, answers for that product."""
    books, tools = CategoryFactory(), CategoryFactory()
    ProductFactory(category=books, price=Decimal("0.00"), stock_on_hand=0)
    ProductFactory(
        category=tools,
        price=Decimal("1234567.89"),
        description='Ünïcode, a line\u2028separator and "quotes"',
        image_url="https://img.example.com/a%20b.png?size=2",
        currency="EUR",
    )
    ProductFactory(category=books, price=Decimal("12.30"), stock_on_hand=7, is_active=False)
    reserved = ProductFactory(category=tools, price=Decimal("0.05"), stock_on_hand=5)
    Product.objects.filter(pk=reserved.pk).update(
        stock_reserved=3, created_at=datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
    )

    body = role_client("STAFF").get("/products/?page_size=100").json()

    products = Product.objects.order_by("-created_at", "-id")
    expected = json.loads(JSONRenderer().render(ProductOutput(products, many=True).data))
    assert body["count"] == len(body["results"]) == len(expected) == 4
    for entry, wanted in zip(body["results"], expected, strict=True):
        assert list(entry) == list(wanted)
        for field, value in wanted.items():
            assert (field, entry[field]) == (field, value)
    assert {entry["available"] for entry in body["results"]} == {0, 10, 7, 2}
    assert any(entry["created_at"] == "2024-02-29T23:59:59Z" for entry in body["results"])


def test_a_list_costs_the_same_queries_for_3_or_60_products(role_client, category, settings):
    settings.CATALOG_CACHE_TTL = 0
    client = role_client(None)
    ProductFactory.create_batch(3, category=category)
    with CaptureQueriesContext(connection) as few:
        client.get("/products/?page_size=100")
    ProductFactory.create_batch(57, category=category)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/products/?page_size=100").json()["results"]) == 60

    assert len(few) == len(many) == 2


def test_a_cached_list_costs_one_query(role_client, product, django_assert_num_queries):
    client = role_client(None)
    client.get("/products/")

    with django_assert_num_queries(1):
        client.get("/products/")


def test_detail_of_an_inactive_product_is_hidden_from_the_public(role_client, product):
    Product.objects.filter(pk=product.pk).update(is_active=False)

    public = role_client(None).get(f"/products/{product.id}/")
    staff = role_client("STAFF").get(f"/products/{product.id}/")

    assert public.status_code == 404
    assert error_code(public) == "product_not_found"
    assert staff.status_code == 200


def test_unknown_product_is_product_not_found(role_client, db):
    response = role_client(None).get("/products/424242/")

    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "product_not_found",
        "message": "The product was not found.",
        "details": {"resource": "product", "id": 424242},
    }


def test_a_bad_token_is_a_401_even_on_public_reads(api_client, user_service, product):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer forged")

    assert api_client.get("/products/").status_code == 401


# --- writing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), ("CUSTOMER", 403), ("STAFF", 201), ("ADMIN", 201)]
)
def test_only_staff_and_admins_create_products(role_client, category, role, status):
    response = role_client(role).post("/products/", {**NEW_PRODUCT, "category": category.id})

    assert response.status_code == status


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("CUSTOMER", 403), ("STAFF", 200)])
@pytest.mark.parametrize("method", ["put", "patch"])
def test_only_staff_change_products(role_client, product, role, status, method):
    body = {**NEW_PRODUCT, "category": product.category_id}

    response = getattr(role_client(role), method)(f"/products/{product.id}/", body)

    assert response.status_code == status
    product.refresh_from_db()
    assert (product.sku == "BOOK-2") == (status == 200)


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("CUSTOMER", 403), ("STAFF", 204)])
def test_only_staff_delete_products_and_delete_deactivates(role_client, product, role, status):
    response = role_client(role).delete(f"/products/{product.id}/")

    assert response.status_code == status
    product.refresh_from_db()
    assert product.is_active == (status != 204)


def test_created_product_has_server_side_fields_only(role_client, category):
    body = {**NEW_PRODUCT, "category": category.id, "available": 999, "stock_reserved": 5, "id": 77}

    created = role_client("STAFF").post("/products/", body).json()

    assert created["available"] == 7
    assert created["quantity"] == 7
    assert created["price"] == "24.99"
    assert created["slug"] == "accelerate"
    assert Product.objects.get(sku="BOOK-2").stock_reserved == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": "-1.00"}, "price"),
        ({"price": "ten"}, "price"),
        ({"price": "1.234"}, "price"),
        ({"quantity": -1}, "quantity"),
        ({"category": 999999}, "category"),
        ({"currency": "EURO"}, "currency"),
        ({"title": ""}, "title"),
        # What the answer's own schema ("uri") would refuse, or a page would run.
        ({"image_url": 'https://x.test/a.png"onerror=alert(1)'}, "image_url"),
        ({"image_url": "https://x.test/a.png'onerror=alert(1)"}, "image_url"),
        ({"image_url": "https://x.test/caf\u00e9.png"}, "image_url"),
        ({"image_url": "https://x.test/a%zz.png"}, "image_url"),
        ({"image_url": "javascript:alert(1)"}, "image_url"),
        ({"image_url": "ftp://x.test/a.png"}, "image_url"),
    ],
)
def test_bad_product_fields_are_a_400_naming_the_field(role_client, category, change, field):
    response = role_client("STAFF").post(
        "/products/", {**NEW_PRODUCT, "category": category.id, **change}
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_an_http_image_url_is_stored_and_answered_as_sent(role_client, category):
    url = "https://img.x.test/p/a%20b.png?size=2&v=1#top"

    response = role_client("STAFF").post(
        "/products/", {**NEW_PRODUCT, "category": category.id, "image_url": url}
    )

    assert response.status_code == 201, response.content
    assert response.json()["image_url"] == url


def test_a_changed_image_url_is_checked_too(role_client, product):
    response = role_client("STAFF").patch(
        f"/products/{product.id}/", {"image_url": 'https://x.test/a.png"onerror=alert(1)'}
    )

    assert response.status_code == 400
    assert "image_url" in response.json()["error"]["details"]


def test_a_duplicate_sku_is_a_409(role_client, product):
    response = role_client("STAFF").post(
        "/products/", {**NEW_PRODUCT, "sku": "BOOK-1", "category": product.category_id}
    )

    assert response.status_code == 409
    assert error_code(response) == "sku_taken"


def test_a_price_change_is_served_at_once_despite_the_cache(
    role_client, product, django_capture_on_commit_callbacks
):
    public = role_client(None)
    assert public.get("/products/").json()["results"][0]["price"] == "44.50"
    assert public.get(f"/products/{product.id}/").json()["price"] == "44.50"

    with django_capture_on_commit_callbacks(execute=True):
        role_client("STAFF").patch(f"/products/{product.id}/", {"price": "39.99"})

    public = role_client(None)
    assert public.get("/products/").json()["results"][0]["price"] == "39.99"
    assert public.get(f"/products/{product.id}/").json()["price"] == "39.99"


# --- categories ------------------------------------------------------------------------------


def test_anyone_reads_categories(role_client, category):
    client = role_client(None)

    listed = client.get("/category/").json()
    detail = client.get(f"/category/{category.id}/").json()

    assert [item["name"] for item in listed["results"]] == ["Books"]
    assert set(detail) == {
        "id",
        "name",
        "slug",
        "description",
        "parent",
        "created_at",
        "updated_at",
    }


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("CUSTOMER", 403), ("STAFF", 201)])
def test_only_staff_create_categories(role_client, db, role, status):
    assert role_client(role).post("/category/", {"name": "Games"}).status_code == status


def test_category_rules(role_client, category, product):
    staff = role_client("STAFF")
    child = staff.post("/category/", {"name": "Novels", "parent": category.id}).json()

    assert staff.post("/category/", {"name": "Books"}).status_code == 409
    assert staff.patch(f"/category/{category.id}/", {"parent": child["id"]}).status_code == 400
    assert staff.post("/category/", {"name": "X", "parent": 999999}).status_code == 400
    in_use = staff.delete(f"/category/{category.id}/")
    assert in_use.status_code == 409
    assert error_code(in_use) == "category_in_use"
    assert staff.delete(f"/category/{child['id']}/").status_code == 204
    assert role_client(None).get("/category/424242/").status_code == 404


def test_money_is_never_a_float(role_client, category):
    ProductFactory(category=category, price=Decimal("0.10"))

    raw = role_client(None).get("/products/").content

    assert b'"price":"0.10"' in raw


@pytest.mark.parametrize("name", ["Þ", "日本", "---"])
def test_a_name_without_ascii_letters_still_gets_a_slug(role_client, db, name):
    response = role_client("STAFF").post("/category/", {"name": name}, format="json")

    assert response.status_code == 201, response.content
    assert re.fullmatch(r"category-[0-9a-f]{8}", response.json()["slug"])
