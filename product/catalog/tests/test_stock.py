"""Stock reservations (internal API): all or nothing, idempotent by order reference, and expiry."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog import services
from catalog.models import Product, Reservation
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(category):
    return ProductFactory(category=category, stock_on_hand=5), ProductFactory(
        category=category, stock_on_hand=2
    )


def priced(product: Product, quantity: int) -> dict:
    """A line of reserve's answer: the product's catalog facts beside the units held."""
    return {
        "product_id": product.id,
        "quantity": quantity,
        "title": product.title,
        "sku": product.sku,
        "price": str(product.price),
        "currency": product.currency,
    }


def reserve(client, order_ref, *lines):
    return client.post(
        "/internal/stock/reserve/",
        {"order_ref": order_ref, "lines": [{"product_id": p.id, "quantity": q} for p, q in lines]},
    )


def stock(product: Product) -> tuple[int, int]:
    product.refresh_from_db()
    return product.stock_on_hand, product.stock_reserved


def test_reserving_holds_stock_for_every_line(as_service, shelf):
    a, b = shelf

    response = reserve(as_service(), "ORD-1", (a, 3), (b, 2))

    assert response.status_code == 201
    body = response.json()
    assert body["order_ref"] == "ORD-1"
    assert body["status"] == "RESERVED"
    assert body["lines"] == [priced(a, 3), priced(b, 2)]
    assert stock(a) == (5, 3)
    assert stock(b) == (2, 2)


def test_one_short_line_reserves_nothing_and_names_every_short_line(as_service, shelf, product):
    a, b = shelf
    Product.objects.filter(pk=product.pk).update(stock_on_hand=0)

    response = reserve(as_service(), "ORD-2", (a, 1), (b, 3), (product, 1))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "out_of_stock"
    assert error["details"]["lines"] == sorted(
        [
            {"product_id": product.id, "requested": 1, "available": 0},
            {"product_id": b.id, "requested": 3, "available": 2},
        ],
        key=lambda line: line["product_id"],
    )
    assert stock(a) == (5, 0)
    assert not Reservation.objects.exists()


def test_the_answer_prices_each_line_at_the_catalog_price_it_was_reserved_at(as_service, shelf):
    a, b = shelf
    services.save_product(product=a, price="7.25")

    first = reserve(as_service(), "ORD-11", (a, 1), (b, 1))
    services.save_product(product=b, price="99.00")
    again = reserve(as_service(), "ORD-11", (a, 1), (b, 1))

    a.refresh_from_db()
    assert first.json()["lines"][0]["price"] == "7.25"
    assert first.json()["lines"] == [priced(a, 1), priced(b, 1)]
    # A lost answer asked again: the same reservation, priced as the catalog stands now.
    assert again.status_code == 200
    assert again.json()["lines"][1]["price"] == "99.00"


def test_a_short_line_is_judged_against_the_stock_before_this_reservation(as_service, shelf):
    """Lines are reserved one by one in product-id order and the first short one stops it: the
    lines reserved before it (4 of 5 here) are not named short for what this reservation itself
    took (catalog.services._short_lines)."""
    a, b = shelf

    response = reserve(as_service(), "ORD-10", (b, 3), (a, 4))

    assert response.status_code == 409
    assert response.json()["error"]["details"]["lines"] == [
        {"product_id": b.id, "requested": 3, "available": 2}
    ]
    assert (stock(a), stock(b)) == ((5, 0), (2, 0))
    assert not Reservation.objects.exists()


def test_unknown_or_inactive_products_are_a_404_naming_them_and_reserve_nothing(
    as_service, shelf, product
):
    a, b = shelf
    Product.objects.filter(pk=product.pk).update(is_active=False)

    response = as_service().post(
        "/internal/stock/reserve/",
        {
            "order_ref": "ORD-3",
            "lines": [
                {"product_id": a.id, "quantity": 1},
                {"product_id": b.id, "quantity": 3},
                {"product_id": product.id, "quantity": 1},
                {"product_id": 999999, "quantity": 1},
            ],
        },
    )

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "product_not_found"
    assert error["details"]["product_ids"] == [product.id, 999999]
    assert stock(a) == (5, 0)
    assert not Reservation.objects.exists()


def test_the_same_order_ref_gives_the_same_answer_and_reserves_once(as_service, shelf):
    a, b = shelf
    client = as_service()

    first = reserve(client, "ORD-4", (a, 1), (a, 1), (b, 1))
    second = reserve(client, "ORD-4", (b, 1), (a, 2))

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json() == first.json()
    assert stock(a) == (5, 2)


def test_the_same_order_ref_once_the_stock_is_gone_still_gives_the_first_reservation(
    as_service, shelf
):
    """The reservation row is written before any stock is looked at: a retry of a reference that
    holds every unit left is its first answer again, not a 409 (catalog.services._reserve_once)."""
    a, _ = shelf
    client = as_service()

    first = reserve(client, "ORD-8", (a, 5))
    again = reserve(client, "ORD-8", (a, 5))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert stock(a) == (5, 5)
    assert Reservation.objects.filter(order_ref="ORD-8").count() == 1


def test_reserve_and_commit_run_only_the_statements_they_need(
    as_service, shelf, django_assert_num_queries
):
    """docs/development.md, "Counting SQL statements": nothing looked for before the unique
    insert, nothing read back for the answer, products locked by their own UPDATEs.
    Each count includes the transaction's savepoint and its release (the test runs in one), and
    leaves out the catalog version's UPDATE, which runs on commit (catalog.cache.invalidate)."""
    a, b = shelf
    client = as_service()

    # The reservation, one conditional UPDATE per line (each locks its product), the products'
    # facts for the answer, the lines.
    with django_assert_num_queries(2 + 5):
        reserved = reserve(client, "ORD-9", (b, 1), (a, 2))
    # The reservation and its lines (one locking read), one UPDATE per line, the reservation.
    with django_assert_num_queries(2 + 4):
        committed = client.post("/internal/stock/commit/", {"order_ref": "ORD-9"})

    assert reserved.json()["lines"] == [priced(a, 2), priced(b, 1)]
    assert committed.json()["lines"] == [
        {"product_id": a.id, "quantity": 2},
        {"product_id": b.id, "quantity": 1},
    ]
    assert (stock(a), stock(b)) == ((3, 0), (1, 0))


def test_the_same_order_ref_with_other_lines_is_a_422(as_service, shelf):
    a, b = shelf
    client = as_service()
    reserve(client, "ORD-5", (a, 1))

    response = reserve(client, "ORD-5", (b, 1))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "reservation_mismatch"
    assert stock(b) == (2, 0)


def test_commit_takes_the_units_out_and_is_idempotent(as_service, shelf):
    a, _ = shelf
    client = as_service()
    reserve(client, "ORD-6", (a, 2))

    first = client.post("/internal/stock/commit/", {"order_ref": "ORD-6"})
    again = client.post("/internal/stock/commit/", {"order_ref": "ORD-6"})

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "COMMITTED"
    assert stock(a) == (3, 0)


def test_release_puts_the_units_back_and_is_idempotent(as_service, shelf):
    a, _ = shelf
    client = as_service()
    reserve(client, "ORD-7", (a, 4))

    assert (
        client.post("/internal/stock/release/", {"order_ref": "ORD-7"}).json()["status"]
        == "RELEASED"
    )
    assert client.post("/internal/stock/release/", {"order_ref": "ORD-7"}).status_code == 200
    assert stock(a) == (5, 0)


def test_a_closed_reservation_cannot_change_state_again(as_service, shelf):
    a, b = shelf
    client = as_service()
    reserve(client, "PAID", (a, 1))
    reserve(client, "GONE", (b, 1))
    client.post("/internal/stock/commit/", {"order_ref": "PAID"})
    client.post("/internal/stock/release/", {"order_ref": "GONE"})

    release_paid = client.post("/internal/stock/release/", {"order_ref": "PAID"})
    commit_gone = client.post("/internal/stock/commit/", {"order_ref": "GONE"})

    assert release_paid.status_code == commit_gone.status_code == 409
    assert release_paid.json()["error"]["code"] == "reservation_closed"
    assert stock(a) == (4, 0)
    assert stock(b) == (2, 0)


@pytest.mark.parametrize("path", ["/internal/stock/commit/", "/internal/stock/release/"])
def test_an_unknown_order_ref_is_a_404(as_service, db, path):
    response = as_service().post(path, {"order_ref": "NOPE"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "reservation_not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"order_ref": "X", "lines": []},
        {"order_ref": "X", "lines": [{"product_id": 1, "quantity": 0}]},
        {"order_ref": "X", "lines": [{"product_id": "one", "quantity": 1}]},
        {"order_ref": "has space", "lines": [{"product_id": 1, "quantity": 1}]},
        {"lines": [{"product_id": 1, "quantity": 1}]},
    ],
)
def test_bad_reservation_requests_are_a_400(as_service, db, body):
    assert as_service().post("/internal/stock/reserve/", body).status_code == 400


def test_expired_reservations_are_released_by_the_command(as_service, shelf):
    a, b = shelf
    client = as_service()
    reserve(client, "OLD", (a, 2))
    reserve(client, "NEW", (b, 1))
    Reservation.objects.filter(order_ref="OLD").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    call_command("release_expired_reservations")

    assert Reservation.objects.get(order_ref="OLD").release_reason == "expired"
    assert Reservation.objects.get(order_ref="NEW").status == "RESERVED"
    assert stock(a) == (5, 0)
    assert stock(b) == (2, 1)


def test_reservations_expire_after_the_configured_ttl(as_service, shelf, settings):
    settings.RESERVATION_TTL_SECONDS = 60
    before = timezone.now()

    reserve(as_service(), "TTL", (shelf[0], 1))

    expires = Reservation.objects.get(order_ref="TTL").expires_at
    assert timedelta(seconds=59) < expires - before < timedelta(seconds=61)


@pytest.mark.parametrize(
    ("caller", "status"),
    [("nobody", 401), ("customer", 401), ("staff", 401), ("service without scope", 403)],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/internal/stock/reserve/"),
        ("post", "/internal/stock/commit/"),
        ("post", "/internal/stock/release/"),
        ("get", "/internal/products/?ids=1"),
    ],
)
def test_internal_endpoints_are_for_service_tokens_with_scope_internal(
    api_client, user_service, db, caller, status, method, path
):
    token = {
        "nobody": None,
        "customer": user_service.token_for("CUSTOMER"),
        "staff": user_service.token_for("STAFF", "ADMIN"),
        "service without scope": user_service.service_token("introspection"),
    }[caller]
    if token:
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = getattr(api_client, method)(
        path, {"order_ref": "X", "lines": [{"product_id": 1, "quantity": 1}]}
    )

    assert response.status_code == status


def test_the_stock_api_answers_503_when_the_user_service_cannot_check_the_token(
    as_service, user_service, shelf
):
    client = as_service()
    user_service.down = True

    response = reserve(client, "DOWN", (shelf[0], 1))

    assert response.status_code == 503
    assert response.json()["error"]["details"]["service"] == "user"
    assert stock(shelf[0]) == (5, 0)


def test_batch_lookup_prices_many_products_in_one_call(
    as_service, shelf, django_assert_max_num_queries
):
    a, b = shelf
    Product.objects.filter(pk=b.pk).update(is_active=False, stock_reserved=1)
    client = as_service()
    client.get(
        f"/internal/products/?ids={a.id}"
    )  # the service token is introspected once, then cached

    with django_assert_max_num_queries(1):
        response = client.get(f"/internal/products/?ids={a.id},{b.id},999999")

    body = response.json()
    assert body["missing"] == [999999]
    assert [
        (item["id"], item["is_active"], item["available"], item["price"])
        for item in body["results"]
    ] == [
        (a.id, True, 5, "10.00"),
        (b.id, False, 1, "10.00"),
    ]
    assert set(body["results"][0]) == {
        "id",
        "title",
        "sku",
        "price",
        "currency",
        "is_active",
        "available",
        "image_url",
    }


def test_with_redis_a_repeated_batch_lookup_comes_from_the_catalog_cache(
    shared_cache, as_service, shelf, django_assert_num_queries
):
    a, b = shelf
    client = as_service()
    first = client.get(f"/internal/products/?ids={b.id},{a.id}")

    with django_assert_num_queries(0):
        again = client.get(f"/internal/products/?ids={a.id},{b.id}")

    assert again.json() == first.json()


@pytest.fixture(params=["local-memory", "redis"])
def either_cache(request):
    if request.param == "redis":
        request.getfixturevalue("shared_cache")


def test_a_batch_lookup_sees_every_stock_movement_at_once(
    either_cache, as_service, shelf, django_capture_on_commit_callbacks
):
    a, _ = shelf
    client = as_service()

    def available() -> int:
        return client.get(f"/internal/products/?ids={a.id}").json()["results"][0]["available"]

    assert available() == 5
    with django_capture_on_commit_callbacks(execute=True):
        assert reserve(client, "MOVED", (a, 2)).status_code == 201
    assert available() == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/internal/stock/release/", {"order_ref": "MOVED"}).status_code == 200
    assert available() == 5


@pytest.mark.parametrize(
    "ids", ["", "a,b", ",".join(str(n) for n in range(1, 102)), str(2**63), "0", "-5"]
)
def test_batch_lookup_needs_1_to_100_numeric_ids(as_service, db, ids):
    assert as_service().get(f"/internal/products/?ids={ids}").status_code == 400


def test_staff_cannot_set_stock_below_what_is_reserved(role_client, as_service, shelf):
    a, _ = shelf
    reserve(as_service(), "HELD", (a, 4))

    response = role_client("STAFF").patch(f"/products/{a.id}/", {"quantity": 3})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stock_below_reserved"
    assert stock(a) == (5, 4)


def test_the_database_itself_refuses_more_reserved_than_on_hand(product):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(stock_reserved=product.stock_on_hand + 1)


def test_reserve_service_merges_duplicate_lines(shelf):
    a, _ = shelf

    reservation, created = services.reserve_stock(
        order_ref="MERGE", lines=[services.StockLine(a.id, 1), services.StockLine(a.id, 2)]
    )

    assert created
    assert [(line.product_id, line.quantity) for line in reservation.lines.all()] == [(a.id, 3)]


@pytest.mark.parametrize(
    "line", [{"product_id": 2**63, "quantity": 1}, {"product_id": 1, "quantity": 10_001}]
)
def test_a_reservation_line_out_of_range_is_a_400_naming_the_field(as_service, shelf, line):
    response = as_service().post(
        "/internal/stock/reserve/", {"order_ref": "ORD-BOUNDS", "lines": [line]}, format="json"
    )

    assert response.status_code == 400
    assert "lines" in response.json()["error"]["details"]


def test_an_id_too_long_for_any_row_is_no_route(api_client, db):
    assert api_client.get("/products/99999999999999999999/").status_code == 404
    assert api_client.get("/category/99999999999999999999/").status_code == 404
