"""The cart over its API: prices from one batch call (or kept from a recent one), every denial, and
failures that change nothing."""

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache.backends import locmem
from django.utils import timezone

from carts.models import Cart, CartItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper(role_client, product_service):
    """A customer's API client; ``shopper.user_id`` is who they are."""
    client = role_client("CUSTOMER", user_id=501)
    client.user_id = 501
    return client


@pytest.fixture
def stranger(role_client):
    return role_client("CUSTOMER", user_id=777)


@pytest.fixture
def kept_facts_expire(monkeypatch, settings):
    """Moves the clock of the cart's cache (local memory in tests) past the time catalog facts are
    kept: what a page asks after that is what the product service answers now."""

    def expire():
        later = time.time() + settings.CART_CATALOG_CACHE_SECONDS + 1
        # The cache module's own clock only: ``locmem.time`` is the process's time module.
        monkeypatch.setattr(locmem, "time", SimpleNamespace(time=lambda: later))

    return expire


def add(client, product_id, quantity=1, **extra):
    return client.post(
        "/api/cart/add/", {"product_id": product_id, "quantity": quantity, **extra}, format="json"
    )


def test_an_empty_cart(shopper):
    body = shopper.get("/api/cart/").json()

    assert body["items"] == []
    assert (body["subtotal"], body["total"], body["currency"]) == ("0.00", "0.00", "USD")


def test_adding_returns_the_whole_priced_cart(shopper, product_service):
    kettle = product_service.add(title="Kettle", sku="KET-1", price="64.90", available=5)

    response = add(shopper, kettle, 2)

    assert response.status_code == 200
    body = response.json()
    (line,) = body["items"]
    assert line == {
        "id": line["id"],
        "product_id": kettle,
        "title": "Kettle",
        "sku": "KET-1",
        "image_url": "",
        "quantity": 2,
        "unit_price": "64.90",
        "subtotal": "129.80",
        "available": True,
        "stock_available": 5,
        "problem": None,
    }
    assert (body["subtotal"], body["total"], body["currency"], body["item_count"]) == (
        "129.80",
        "129.80",
        "USD",
        2,
    )


def test_adding_the_same_product_again_adds_to_its_line(shopper, product_service):
    pen = product_service.add(price="3.00")

    add(shopper, pen, 1)
    body = add(shopper, pen, 2).json()

    assert [(line["product_id"], line["quantity"]) for line in body["items"]] == [(pen, 3)]
    assert CartItem.objects.count() == 1


def test_adding_and_clearing_run_only_the_statements_they_need(
    shopper, product_service, django_assert_num_queries
):
    """docs/development.md, "Counting SQL statements". Each count includes the transaction's
    savepoint and its release (the test runs in one); the answer must still be the cart's own."""
    pen, ink = product_service.add(price="3.00"), product_service.add(price="4.00")

    # A first cart: looked for, inserted (in a savepoint of its own); then the stamp that locks
    # it, its lines, the new line.
    with django_assert_num_queries(2 + 2 + 2 + 3):
        first = add(shopper, pen, 1).json()
    # Its lines before the product service is asked, then under the lock: stamp, lines, new line.
    with django_assert_num_queries(2 + 2 + 3):
        second = add(shopper, ink, 2).json()
    # A cart with lines is read in one query, its lines joined to it.
    with django_assert_num_queries(1):
        read = shopper.get("/api/cart/").json()
    assert read == second
    assert [line["product_id"] for line in first["items"]] == [pen]
    assert [(line["product_id"], line["quantity"]) for line in second["items"]] == [
        (pen, 1),
        (ink, 2),
    ]
    # The cart, then its lines deleted; the answer asks nothing.
    with django_assert_num_queries(2):
        cleared = shopper.post("/api/cart/clear/").json()
    # An empty one: the join finds nothing, then the cart itself (its lines known to be none).
    with django_assert_num_queries(2):
        read = shopper.get("/api/cart/").json()
    assert read == cleared
    assert cleared["items"] == []


def test_prices_and_totals_sent_by_the_client_are_ignored(shopper, product_service):
    pen = product_service.add(price="3.00")

    body = add(shopper, pen, 1, price="0.01", unit_price="0.01", title="Free", total="0.00").json()

    assert body["items"][0]["unit_price"] == "3.00"
    assert body["items"][0]["title"] == "Product 1"
    assert body["total"] == "3.00"


def test_decimal_totals_are_exact(shopper, product_service):
    dime = product_service.add(price="0.10", available=50)
    fifth = product_service.add(price="0.20", available=50)
    odd = product_service.add(price="33.33", available=50)

    add(shopper, dime, 3)
    add(shopper, fifth, 7)
    body = add(shopper, odd, 3).json()

    assert [line["subtotal"] for line in body["items"]] == ["0.30", "1.40", "99.99"]
    assert body["subtotal"] == "101.69"
    assert b"0.30000000000000004" not in shopper.get("/api/cart/").content


def test_the_first_releases_items_body_adds_all_lines_or_none(shopper, product_service):
    a = product_service.add(available=5)
    b = product_service.add(available=1)

    refused = shopper.post(
        "/api/cart/add/",
        {"items": [{"product_id": a, "quantity": 2}, {"product_id": b, "quantity": 2}]},
        format="json",
    )
    accepted = shopper.post(
        "/api/cart/add/",
        {"items": [{"product_id": a, "quantity": 2}, {"product_id": b, "quantity": 1}]},
        format="json",
    )

    assert refused.status_code == 409
    assert accepted.status_code == 200
    assert [(line["product_id"], line["quantity"]) for line in accepted.json()["items"]] == [
        (a, 2),
        (b, 1),
    ]


def test_a_cart_page_costs_one_batch_call_whatever_the_number_of_lines(
    shopper, product_service, kept_facts_expire
):
    for _ in range(5):
        add(shopper, product_service.add())
    kept_facts_expire()
    product_service.lookup.reset()

    shopper.get("/api/cart/")

    assert product_service.lookup.call_count == 1
    assert product_service.lookup.calls.last.request.url.params["ids"] == "1,2,3,4,5"


def test_a_cart_page_prices_from_facts_kept_from_a_recent_answer(
    shopper, product_service, kept_facts_expire
):
    pen = product_service.add(price="2.50", available=3)
    add(shopper, pen, 1)
    product_service.products[pen]["price"] = "3.00"
    product_service.lookup.reset()

    kept = shopper.get("/api/cart/").json()
    kept_facts_expire()
    fresh = shopper.get("/api/cart/").json()

    assert kept["items"][0]["unit_price"] == "2.50"
    assert fresh["items"][0]["unit_price"] == fresh["total"] == "3.00"
    assert product_service.lookup.call_count == 1  # the second page only


def test_a_mutation_costs_one_batch_call(shopper, product_service):
    for _ in range(4):
        add(shopper, product_service.add())
    new = product_service.add()
    product_service.lookup.reset()

    add(shopper, new)

    assert product_service.lookup.call_count == 1


@pytest.mark.parametrize(
    ("quantity", "status"), [(0, 400), (-1, 400), (100, 400), ("two", 400), (2**63, 400)]
)
def test_bad_quantities_are_refused(shopper, product_service, quantity, status):
    pen = product_service.add(available=500)

    assert add(shopper, pen, quantity).status_code == status
    assert not CartItem.objects.exists()


def test_the_per_line_maximum_counts_what_is_already_in_the_cart(
    shopper, product_service, settings
):
    settings.CART_MAX_LINE_QUANTITY = 5
    pen = product_service.add(available=500)
    add(shopper, pen, 4)

    response = add(shopper, pen, 2)

    assert response.status_code == 400
    assert "quantity" in response.json()["error"]["details"]


@pytest.mark.parametrize("kind", ["unknown", "inactive"])
def test_unknown_or_inactive_products_are_product_not_found(shopper, product_service, kind):
    product_id = 424242 if kind == "unknown" else product_service.add(is_active=False)

    response = add(shopper, product_id)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "product_not_found"


def test_more_than_the_stock_is_insufficient_stock(shopper, product_service):
    pen = product_service.add(available=2)
    add(shopper, pen, 2)

    response = add(shopper, pen, 1)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_stock"
    assert response.json()["error"]["details"] == {
        "product_id": pen,
        "requested": 3,
        "available": 2,
    }


def test_products_in_two_currencies_do_not_share_a_cart(shopper, product_service):
    add(shopper, product_service.add(currency="USD"))

    response = add(shopper, product_service.add(currency="EUR"))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "currency_mismatch"


def test_a_product_that_went_away_shows_as_unavailable_not_dropped(
    shopper, product_service, kept_facts_expire
):
    kept = product_service.add(price="5.00")
    retired = product_service.add(price="7.00")
    deleted = product_service.add(price="9.00")
    for product_id in (kept, retired, deleted):
        add(shopper, product_id)
    product_service.products[retired]["is_active"] = False
    del product_service.products[deleted]
    kept_facts_expire()

    body = shopper.get("/api/cart/").json()

    assert [(line["product_id"], line["available"], line["problem"]) for line in body["items"]] == [
        (kept, True, None),
        (retired, False, "product_inactive"),
        (deleted, False, "product_not_found"),
    ]
    assert body["items"][2]["unit_price"] is None
    assert body["subtotal"] == "5.00"
    assert body["has_unavailable_items"] is True


def test_update_sets_the_quantity_and_zero_removes(shopper, product_service):
    pen = product_service.add(price="2.50", available=10)
    item_id = add(shopper, pen, 1).json()["items"][0]["id"]

    updated = shopper.post(f"/api/cart/update/{item_id}/", {"quantity": 4}, format="json")
    removed = shopper.post(f"/api/cart/update/{item_id}/", {"quantity": 0}, format="json")

    assert updated.json()["items"][0]["quantity"] == 4
    assert updated.json()["total"] == "10.00"
    assert removed.json()["items"] == []


def test_update_above_the_stock_is_a_409_and_changes_nothing(shopper, product_service):
    pen = product_service.add(available=3)
    item_id = add(shopper, pen, 1).json()["items"][0]["id"]

    response = shopper.post(f"/api/cart/update/{item_id}/", {"quantity": 4}, format="json")

    assert response.status_code == 409
    assert CartItem.objects.get(pk=item_id).quantity == 1


def test_remove_and_clear(shopper, product_service):
    a, b = product_service.add(), product_service.add()
    first = add(shopper, a).json()["items"][0]["id"]
    add(shopper, b)

    after_remove = shopper.delete(f"/api/cart/remove/{first}/").json()
    after_clear = shopper.post("/api/cart/clear/").json()

    assert [line["product_id"] for line in after_remove["items"]] == [b]
    assert after_clear["items"] == []
    assert after_clear["total"] == "0.00"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/cart/update/{item}/", {"quantity": 2}),
        ("delete", "/api/cart/remove/{item}/", None),
    ],
)
def test_another_users_line_is_a_404_and_stays_as_it_was(
    shopper, stranger, product_service, method, path, body
):
    item_id = add(shopper, product_service.add()).json()["items"][0]["id"]

    response = getattr(stranger, method)(path.format(item=item_id), body, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "cart_item_not_found"
    assert CartItem.objects.get(pk=item_id).quantity == 1


def test_each_user_sees_only_their_own_cart(shopper, stranger, product_service):
    add(shopper, product_service.add())

    assert stranger.get("/api/cart/").json()["items"] == []
    assert Cart.objects.count() == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/cart/"),
        ("post", "/api/cart/add/"),
        ("post", "/api/cart/update/1/"),
        ("delete", "/api/cart/remove/1/"),
        ("post", "/api/cart/clear/"),
    ],
)
def test_anonymous_callers_get_401(api_client, user_service, method, path):
    response = getattr(api_client, method)(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_paths_answer_without_the_trailing_slash(shopper, product_service):
    assert (
        shopper.post(
            "/api/cart/add", {"product_id": product_service.add()}, format="json"
        ).status_code
        == 200
    )
    assert len(shopper.get("/api/cart").json()["items"]) == 1


def test_product_service_down_is_a_503_naming_it_and_the_cart_is_untouched(
    shopper, product_service, kept_facts_expire
):
    pen = product_service.add()
    ink = product_service.add()
    add(shopper, pen, 1)
    product_service.down = True

    read_while_kept = shopper.get("/api/cart/")
    kept_facts_expire()
    read = shopper.get("/api/cart/")
    write = add(shopper, ink, 1)  # not looked up before: its facts must be asked for

    assert read_while_kept.status_code == 200
    assert read.status_code == write.status_code == 503
    assert read.json()["error"]["details"]["service"] == "product"
    assert write.json()["error"]["details"]["service"] == "product"
    assert CartItem.objects.get().quantity == 1


def test_adding_checks_catalog_facts_kept_from_a_recent_answer(
    shopper, product_service, kept_facts_expire
):
    pen = product_service.add(price="2.50", available=3)
    add(shopper, pen, 1)
    product_service.products[pen]["price"] = "3.00"
    asked = product_service.lookup.call_count

    added = add(shopper, pen, 1)

    assert added.status_code == 200
    assert product_service.lookup.call_count == asked  # no call to the product service
    assert added.json()["items"][0]["unit_price"] == "2.50"
    # Once the kept facts expire, the page asks, and what it learns is what the next add checks.
    kept_facts_expire()
    assert shopper.get("/api/cart/").json()["items"][0]["unit_price"] == "3.00"
    product_service.products[pen]["available"] = 2
    product_service.lookup.reset()
    shopper.post(
        f"/api/cart/update/{added.json()['items'][0]['id']}/", {"quantity": 2}, format="json"
    )
    assert product_service.lookup.call_count == 1  # a quantity change asks whatever is kept
    refused = add(shopper, pen, 1)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "insufficient_stock"


def test_without_the_catalog_cache_every_add_asks_the_product_service(
    shopper, product_service, settings
):
    settings.CART_CATALOG_CACHE_SECONDS = 0
    pen = product_service.add()
    add(shopper, pen, 1)
    product_service.products[pen]["is_active"] = False

    refused = add(shopper, pen, 1)

    assert refused.status_code == 404
    assert product_service.lookup.call_count == 2


def test_user_service_down_is_a_503_naming_it(shopper, user_service):
    user_service.down = True

    response = shopper.get("/api/cart/")

    assert response.status_code == 503
    assert response.json()["error"]["details"]["service"] == "user"


def test_a_refused_service_token_is_replaced_once(shopper, product_service, user_service):
    pen = product_service.add()
    add(shopper, pen)
    user_service.service_tokens.clear()  # the product service no longer accepts the cached token

    assert shopper.get("/api/cart/").status_code == 200


def test_a_product_id_out_of_range_is_a_400_naming_it(shopper, product_service):
    response = shopper.post("/api/cart/add/", {"product_id": 2**63, "quantity": 1})

    assert response.status_code == 400
    assert "product_id" in response.json()["error"]["details"]
    assert not product_service.lookup.called, "refused before asking the product service"


def test_an_item_id_too_long_for_any_row_is_no_route(shopper):
    assert (
        shopper.post("/api/cart/update/99999999999999999999/", {"quantity": 1}).status_code == 404
    )


def test_the_cart_pages_lines_are_the_stored_carts(shopper, stranger, product_service):
    """The cart page reads its lines from rows (``selectors.cart_lines``); they must be the lines
    ``stored_cart`` gives, field by field and in its order, and nobody else's."""
    from carts.selectors import cart_lines, stored_cart

    products = [product_service.add(price="2.00") for _ in range(4)]
    for product_id in products[:3]:
        add(shopper, product_id, 2)
    add(stranger, products[3])
    add(shopper, products[0], 1)
    # Added in one instant, lines are in id order: put the last one first in time.
    CartItem.objects.filter(product_id=products[2]).update(
        added_at=timezone.now() - timedelta(days=1)
    )

    def fields(cart):
        return (cart.id, [(i.id, i.cart_id, i.product_id, i.quantity) for i in cart.items.all()])

    fast, stored = cart_lines(user_id=shopper.user_id), stored_cart(user_id=shopper.user_id)
    assert fields(fast) == fields(stored)
    assert [i.product_id for i in fast.items.all()] == [products[2], products[0], products[1]]
    assert [i.quantity for i in fast.items.all()] == [2, 3, 2]
    shopper.post("/api/cart/clear/")
    assert cart_lines(user_id=shopper.user_id) is None
    assert cart_lines(user_id=12345) is None


def test_the_hand_built_answer_is_what_cart_output_gives():
    """``PricedCart.as_answer`` is built by hand for speed; ``CartOutput`` documents it. Every kind
    of line (buyable, short of stock, inactive, gone) must come out the same from both."""
    from decimal import Decimal

    from carts.apis import CartOutput
    from carts.selectors import PricedCart, price_lines
    from shop_common.product_catalog import CatalogProduct
    from shop_common.renderers import JSONRenderer

    def product(product_id, **facts):
        defaults = {"title": f"P{product_id}", "sku": f"S{product_id}", "price": Decimal("12.5")}
        defaults |= {"currency": "USD", "is_active": True, "available": 5, "image_url": ""}
        return CatalogProduct(id=product_id, **(defaults | facts))

    products = {
        1: product(1, price=Decimal("64.90")),
        2: product(2, available=1),
        3: product(3, is_active=False),
    }
    items = [CartItem(id=n, product_id=n, quantity=2) for n in (1, 2, 3, 4)]
    cart = PricedCart(id=9, lines=price_lines(items, products), currency="USD")

    render = JSONRenderer().render
    assert render(cart.as_answer()) == render(CartOutput(cart).data)
    assert [line["problem"] for line in cart.as_answer()["items"]] == [
        None,
        "insufficient_stock",
        "product_inactive",
        "product_not_found",
    ]


def test_two_first_requests_of_one_user_share_one_cart(shopper, product_service, monkeypatch):
    """The second of two first requests looked before the first inserted: its plain insert fails
    on the unique user_id, and it takes the cart the first made (carts.services._cart_of)."""
    pen = product_service.add(price="3.00")
    made_meanwhile = Cart.objects.create(user_id=shopper.user_id)
    filter_rows = Cart.objects.filter

    def looked_too_early(**kwargs):
        monkeypatch.undo()  # the first look only
        return Cart.objects.none()

    monkeypatch.setattr(Cart.objects, "filter", looked_too_early)

    response = add(shopper, pen, 1)

    assert Cart.objects.filter == filter_rows
    assert response.status_code == 200
    assert response.json()["id"] == made_meanwhile.id
    assert Cart.objects.filter(user_id=shopper.user_id).count() == 1


def begin(client, key):
    return client.post("/api/cart/checkout/", {"key": key}, format="json")


def test_the_first_checkout_of_a_cart_sets_the_key_every_other_checkout_gets(
    shopper, product_service
):
    kettle = product_service.add(title="Kettle", sku="KET-1", price="64.90", available=5)
    add(shopper, kettle, 2)

    first = begin(shopper, "key-a")
    second = begin(shopper, "key-b")

    assert first.status_code == second.status_code == 200
    body = first.json()
    assert {**second.json(), "under_way": True} == body
    assert (body["key"], body["order_id"], body["order_number"]) == ("key-a", None, "")
    assert body["under_way"] is True
    assert [(line["product_id"], line["quantity"]) for line in body["items"]] == [(kettle, 2)]


def test_an_empty_cart_has_no_checkout(shopper):
    body = begin(shopper, "key-a").json()

    assert (body["key"], body["items"], body["order_id"]) == (None, [], None)


def test_a_completed_checkout_empties_the_cart_and_names_its_order_to_later_checkouts(
    shopper, product_service
):
    kettle = product_service.add(available=5)
    add(shopper, kettle, 1)
    begin(shopper, "key-a")

    done = shopper.post(
        "/api/cart/checkout/complete/",
        {"key": "key-a", "order_id": 31, "order_number": "ORD-31"},
        format="json",
    )
    later = begin(shopper, "key-b").json()

    assert done.status_code == 200
    assert (later["key"], later["order_id"], later["order_number"], later["items"]) == (
        "key-a",
        31,
        "ORD-31",
        [],
    )
    assert shopper.get("/api/cart/").json()["items"] == []


def test_adding_after_a_checkout_starts_a_new_purchase(shopper, product_service):
    kettle = product_service.add(available=5)
    add(shopper, kettle, 1)
    begin(shopper, "key-a")
    shopper.post(
        "/api/cart/checkout/complete/",
        {"key": "key-a", "order_id": 31, "order_number": "ORD-31"},
        format="json",
    )

    add(shopper, kettle, 1)
    body = begin(shopper, "key-b").json()

    assert (body["key"], body["order_id"], len(body["items"])) == ("key-b", None, 1)


def test_a_cancelled_checkout_keeps_the_lines_and_the_next_one_is_new(shopper, product_service):
    kettle = product_service.add(available=5)
    add(shopper, kettle, 1)
    begin(shopper, "key-a")

    cancelled = shopper.post("/api/cart/checkout/cancel/", {"key": "key-a"}, format="json")
    body = begin(shopper, "key-b").json()

    assert cancelled.status_code == 200
    assert (body["key"], len(body["items"])) == ("key-b", 1)


def test_another_keys_cancel_leaves_the_checkout_alone(shopper, product_service):
    add(shopper, product_service.add(available=5), 1)
    begin(shopper, "key-a")

    shopper.post("/api/cart/checkout/cancel/", {"key": "key-b"}, format="json")

    assert begin(shopper, "key-c").json()["key"] == "key-a"


def test_a_checkout_older_than_its_hold_is_replaced(shopper, product_service, settings):
    add(shopper, product_service.add(available=5), 1)
    begin(shopper, "key-a")
    long_ago = timezone.now() - timedelta(seconds=settings.CART_CHECKOUT_SECONDS + 1)
    Cart.objects.update(checkout_started_at=long_ago)

    assert begin(shopper, "key-b").json()["key"] == "key-b"


def test_a_checkout_is_its_owners_alone(shopper, stranger, product_service):
    add(shopper, product_service.add(available=5), 1)
    begin(shopper, "key-a")

    assert begin(stranger, "key-b").json()["items"] == []
    assert begin(shopper, "key-c").json()["key"] == "key-a"


def test_a_checkout_without_a_key_is_a_400(shopper):
    assert shopper.post("/api/cart/checkout/", {}, format="json").status_code == 400


def test_a_checkout_is_under_way_for_one_request_budget_then_open_to_the_next_caller(
    shopper, product_service, settings
):
    add(shopper, product_service.add(available=5), 1)
    begin(shopper, "key-a")
    settings.REQUEST_BUDGET_SECONDS = 0

    body = begin(shopper, "key-b").json()

    assert (body["key"], body["under_way"]) == ("key-a", False)
