"""Orders: priced snapshots, reserved stock, the state machine, idempotency, and who may see what."""

import itertools
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders import services
from orders.apis import OrderOutput
from orders.exceptions import IllegalTransition
from orders.models import TRANSITIONS, Order, OrderEvent, OrderStatus
from orders.selectors import order_with_details
from shop_common.renderers import JSONRenderer
from shop_common.testing.data import ADDRESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(product_service):
    return {
        "kettle": product_service.add(title="Kettle", sku="KET-1", price="64.90", available=5),
        "filters": product_service.add(title="Filters", sku="FIL-1", price="6.99", available=100),
    }


def place(client, *lines, key=None, **extra):
    body = {
        "items": [{"product_id": pid, "quantity": q} for pid, q in lines],
        "shipping_address": ADDRESS,
        **extra,
    }
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/orders/", body, **headers)


# --- placing ---------------------------------------------------------------------------------


def test_an_order_is_priced_by_the_server_and_reserves_its_stock(customer, shelf, product_service):
    response = place(
        customer, (shelf["kettle"], 2), (shelf["filters"], 3), total_amount="0.01", subtotal="1.00"
    )

    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "PENDING"
    assert order["order_number"].startswith("ORD-")
    assert order["user_id"] == 41
    assert [(i["sku"], i["price"], i["quantity"], i["subtotal"]) for i in order["items"]] == [
        ("KET-1", "64.90", 2, "129.80"),
        ("FIL-1", "6.99", 3, "20.97"),
    ]
    # 150.77 x 8 % = 12.0616 → 12.06; shipping 10.00
    assert (
        order["subtotal"],
        order["tax_amount"],
        order["shipping_amount"],
        order["total_amount"],
    ) == (
        "150.77",
        "12.06",
        "10.00",
        "172.83",
    )
    assert order["billing_address"] == order["shipping_address"] == ADDRESS
    assert order["status_history"][0]["status"] == "PENDING"
    assert product_service.reservations[order["order_number"]]["status"] == "RESERVED"
    assert product_service.products[shelf["kettle"]]["available"] == 3
    # Priced by the reservation's answer: one call to the product service, no lookup before it.
    assert (product_service.reserve.call_count, product_service.lookup.call_count) == (1, 0)


def test_a_placement_answers_from_the_rows_it_wrote(customer, shelf, django_assert_num_queries):
    """Placed orders are not read back (shop_common.related.known_related): the answer must still
    be what the order's own page answers, lines in order, first event included."""
    with django_assert_num_queries(8):
        # The key's earlier order, the key's released references (orders.services), then the
        # order, its lines and its first event in a transaction (a savepoint and its release
        # here: the test runs in one); nothing read back. After the response, the outbox's
        # "anything due?" (orders.outbox.drain_after_response).
        placed = place(customer, (shelf["kettle"], 2), (shelf["filters"], 3), key="k-rows")
    assert placed.status_code == 201

    assert placed.json() == customer.get(f"/orders/{placed.json()['id']}/").json()
    again = place(customer, (shelf["kettle"], 2), (shelf["filters"], 3), key="k-rows")
    assert (again.status_code, again.json()) == (200, placed.json())


def test_tax_is_rounded_half_up_to_cents(customer, product_service, settings):
    settings.ORDER_TAX_RATE = Decimal("0.05")
    dime = product_service.add(
        price="0.10"
    )  # 0.10 x 5 % = 0.005: half-up 0.01 (half-even would give 0.00)

    order = place(customer, (dime, 1)).json()

    assert (order["subtotal"], order["tax_amount"], order["total_amount"]) == (
        "0.10",
        "0.01",
        "10.11",
    )


def test_the_snapshot_does_not_change_when_the_price_does(customer, shelf, product_service):
    order_id = place(customer, (shelf["kettle"], 1)).json()["id"]

    product_service.products[shelf["kettle"]]["price"] = "99.00"
    product_service.products[shelf["kettle"]]["title"] = "Renamed"

    order = customer.get(f"/orders/{order_id}/").json()
    assert (order["items"][0]["title"], order["items"][0]["price"], order["total_amount"]) == (
        "Kettle",
        "64.90",
        "80.09",
    )


def test_refused_reservation_is_a_409_with_the_short_lines_and_no_order(customer, shelf):
    response = place(customer, (shelf["kettle"], 6), (shelf["filters"], 1))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "out_of_stock"
    assert error["details"]["lines"] == [
        {"product_id": shelf["kettle"], "requested": 6, "available": 5}
    ]
    assert not Order.objects.exists()


def test_unknown_or_inactive_products_are_a_404_and_no_order(customer, shelf, product_service):
    product_service.products[shelf["filters"]]["is_active"] = False

    response = place(customer, (shelf["kettle"], 1), (shelf["filters"], 1), (999999, 1))

    assert response.status_code == 404
    assert response.json()["error"]["details"]["product_ids"] == [shelf["filters"], 999999]
    assert not Order.objects.exists()
    assert not product_service.reservations


def test_products_in_two_currencies_are_a_409_and_their_reservation_is_released(
    customer, shelf, product_service
):
    euro = product_service.add(price="5.00", currency="EUR")

    response = place(customer, (shelf["kettle"], 1), (euro, 1))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "currency_mismatch"
    assert not Order.objects.exists()
    (reservation,) = product_service.reservations.values()
    assert reservation["status"] == "RELEASED"
    assert product_service.products[shelf["kettle"]]["available"] == 5


def test_product_service_down_is_a_503_and_no_order(customer, shelf, product_service):
    product_service.down = True

    response = place(customer, (shelf["kettle"], 1))

    assert response.status_code == 503
    assert response.json()["error"]["details"]["service"] == "product"
    assert not Order.objects.exists()


def test_a_save_that_fails_after_the_reservation_releases_it(
    customer, shelf, product_service, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("orders.models.OrderLine.objects.bulk_create", broken)

    response = place(customer, (shelf["kettle"], 2))

    assert response.status_code == 500
    (reservation,) = product_service.reservations.values()
    assert reservation["status"] == "RELEASED"
    assert product_service.products[shelf["kettle"]]["available"] == 5
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"items": [], "shipping_address": ADDRESS},
        {"items": [{"product_id": 1, "quantity": 0}], "shipping_address": ADDRESS},
        {"items": [{"product_id": 1, "quantity": 1}]},
        {"items": [{"product_id": 1, "quantity": 1}], "shipping_address": {"city": "x"}},
        {
            "items": [{"product_id": 1, "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment_method": "cash",
        },
        {"items": [{"product_id": 2**63, "quantity": 1}], "shipping_address": ADDRESS},
        {"items": [{"product_id": 1, "quantity": 2**63}], "shipping_address": ADDRESS},
        {"items": [{"product_id": 1, "quantity": 999}] * 2, "shipping_address": ADDRESS},
    ],
    ids=[
        "no items",
        "zero",
        "no address",
        "bad address",
        "cash",
        "huge id",
        "huge quantity",
        "merged over the cap",
    ],
)
def test_bad_order_bodies_are_a_400(customer, shelf, body):
    response = customer.post("/orders/", body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


# --- idempotency -----------------------------------------------------------------------------


def test_the_same_key_and_body_give_back_the_same_order(customer, shelf, product_service):
    first = place(customer, (shelf["kettle"], 1), key="k-1")
    second = place(customer, (shelf["kettle"], 1), key="k-1")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert Order.objects.count() == 1
    assert len(product_service.reservations) == 1
    assert product_service.products[shelf["kettle"]]["available"] == 4


def test_the_same_key_with_another_body_is_a_422(customer, shelf):
    place(customer, (shelf["kettle"], 1), key="k-2")

    response = place(customer, (shelf["kettle"], 2), key="k-2")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_keys_belong_to_their_user(customer, role_client, shelf):
    place(customer, (shelf["kettle"], 1), key="shared")

    other = place(role_client("CUSTOMER", user_id=42), (shelf["kettle"], 1), key="shared")

    assert other.status_code == 201
    assert Order.objects.count() == 2


def test_the_order_number_of_a_keyed_order_is_its_reservation_reference(shelf):
    first = services.order_number_for(user_id=1, idempotency_key="abc")

    assert first == services.order_number_for(user_id=1, idempotency_key="abc")
    assert first != services.order_number_for(user_id=2, idempotency_key="abc")
    assert services.order_number_for(user_id=1, idempotency_key=None) != services.order_number_for(
        user_id=1, idempotency_key=None
    )


# --- reading ---------------------------------------------------------------------------------


def test_history_is_own_orders_newest_first_with_filters(customer, role_client, shelf):
    older = place(customer, (shelf["filters"], 1)).json()["id"]
    newer = place(customer, (shelf["filters"], 2)).json()["id"]
    place(role_client("CUSTOMER", user_id=99), (shelf["filters"], 1))
    customer.post(f"/orders/{older}/cancel/")
    today = timezone.now().date().isoformat()

    everything = customer.get("/orders/history/").json()
    cancelled = customer.get("/orders/history/?status=CANCELLED").json()
    dated = customer.get(f"/orders/history/?date_from={today}&date_to={today}").json()

    assert [order["id"] for order in everything["results"]] == [newer, older]
    assert [order["id"] for order in cancelled["results"]] == [older]
    assert dated["count"] == 2
    assert customer.get("/orders/history/?status=LOST").status_code == 400
    assert customer.get("/orders/history/?date_from=yesterday").status_code == 400


def test_each_history_entry_is_the_orders_own_answer(
    customer, staff, shelf, django_assert_num_queries
):
    """The history and the order page are built from rows by hand
    (orders.selectors.order_answers); each must be what OrderOutput answers for that order, in
    every state and with every kind of field."""
    plain = place(customer, (shelf["filters"], 1)).json()["id"]
    billed = place(
        customer,
        (shelf["kettle"], 2),
        (shelf["filters"], 3),
        billing_address={**ADDRESS, "street": "2 Billing Road", "state": ""},
    ).json()["id"]
    shipped = place(customer, (shelf["kettle"], 1)).json()["id"]
    services.payment_succeeded(
        order_id=shipped, payment_reference="pay_9", by="service:shop-payment"
    )
    staff.put(f"/orders/{shipped}/status/", {"status": "CONFIRMED"})
    staff.put(
        f"/orders/{shipped}/status/",
        {"status": "SHIPPED", "tracking_number": "1Z999", "carrier": "UPS"},
    )
    customer.post(f"/orders/{plain}/cancel/")

    with django_assert_num_queries(5):  # the history's version, count, orders, lines, events
        history = customer.get("/orders/history/").json()

    assert [entry["id"] for entry in history["results"]] == [shipped, billed, plain]
    for entry in history["results"]:
        serialized = OrderOutput(order_with_details(order_id=entry["id"])).data
        assert entry == json.loads(JSONRenderer().render(serialized))
        assert customer.get(f"/orders/{entry['id']}/").json() == entry
    assert len(history["results"][0]["status_history"]) == 4
    assert len(history["results"][1]["items"]) == 2


def test_a_history_page_is_read_again_after_every_change_to_the_customers_orders(
    customer, staff, shelf, django_assert_num_queries
):
    """History pages are cached under the customer's history version (orders.cache): each kind
    of change below must show at once; an unchanged history is one query."""

    def statuses():
        return [order["status"] for order in customer.get("/orders/history/").json()["results"]]

    first = place(customer, (shelf["filters"], 1)).json()["id"]
    assert statuses() == ["PENDING"]
    with django_assert_num_queries(1):  # the version; the page comes from the cache
        assert statuses() == ["PENDING"]

    second = place(customer, (shelf["filters"], 1)).json()["id"]
    assert statuses() == ["PENDING", "PENDING"]
    services.payment_succeeded(order_id=first, payment_reference="pay_1", by="test")
    assert statuses() == ["PENDING", "PAID"]
    staff.put(f"/orders/{first}/status/", {"status": "CONFIRMED"})
    assert statuses() == ["PENDING", "CONFIRMED"]
    staff.put(
        f"/orders/{first}/status/",
        {"status": "SHIPPED", "tracking_number": "1Z1", "carrier": "UPS"},
    )
    shipped = customer.get("/orders/history/").json()["results"][1]
    assert (shipped["status"], shipped["tracking_number"], shipped["carrier"]) == (
        "SHIPPED",
        "1Z1",
        "UPS",
    )
    services.refunded(order_id=first, payment_reference="pay_1", by="test")
    assert statuses() == ["PENDING", "REFUNDED"]
    services.payment_failed(order_id=second, payment_reference="pay_2", by="test")
    assert statuses() == ["CANCELLED", "REFUNDED"]
    third = place(customer, (shelf["filters"], 1)).json()["id"]
    Order.objects.filter(pk=third).update(created_at=timezone.now() - timedelta(days=1))
    services.expire_pending_orders()
    assert statuses() == ["CANCELLED", "REFUNDED", "CANCELLED"]


def test_a_customers_order_page_is_read_again_after_every_change_and_only_by_them(
    customer, staff, role_client, shelf, django_assert_num_queries
):
    """An order's page is cached for its customer under their history version, as the history is:
    an unchanged order is one query, a change shows at once, and nobody else gets the page."""
    order_id = place(customer, (shelf["filters"], 1)).json()["id"]
    assert customer.get(f"/orders/{order_id}/").json()["status"] == "PENDING"
    with django_assert_num_queries(1):  # the version; the page comes from the cache
        assert customer.get(f"/orders/{order_id}/").json()["status"] == "PENDING"

    services.payment_succeeded(order_id=order_id, payment_reference="pay_1", by="test")
    assert customer.get(f"/orders/{order_id}/").json()["status"] == "PAID"
    staff.put(f"/orders/{order_id}/status/", {"status": "CONFIRMED"})
    staff.put(
        f"/orders/{order_id}/status/",
        {"status": "SHIPPED", "tracking_number": "1Z1", "carrier": "UPS"},
    )
    shipped = customer.get(f"/orders/{order_id}/").json()
    assert (shipped["status"], shipped["tracking_number"]) == ("SHIPPED", "1Z1")
    assert staff.get(f"/orders/{order_id}/").json() == shipped
    assert role_client("CUSTOMER", user_id=99).get(f"/orders/{order_id}/").status_code == 404
    with django_assert_num_queries(3):  # staff: the order, its lines, its events, every time
        assert staff.get(f"/orders/{order_id}/").json() == shipped


def test_with_the_history_cache_off_every_read_runs_the_page_queries(
    customer, shelf, settings, django_assert_num_queries
):
    settings.ORDER_HISTORY_CACHE_TTL = 0
    place(customer, (shelf["filters"], 1))

    for _ in range(2):
        with django_assert_num_queries(4):  # count, orders, lines, events; no version
            assert customer.get("/orders/history/").json()["count"] == 1


def test_a_history_page_over_the_size_bound_is_answered_but_not_kept(
    customer, shelf, monkeypatch, django_assert_num_queries
):
    from orders import cache

    place(customer, (shelf["filters"], 1))
    monkeypatch.setattr(cache, "MAX_PAGE_BYTES", 10)

    for _ in range(2):
        with django_assert_num_queries(1 + 4):  # the version, then the page's own queries
            assert customer.get("/orders/history/").json()["count"] == 1


def test_the_history_version_is_the_number_of_the_customers_order_events(
    customer, role_client, shelf
):
    """``selectors.history_version`` is SQL written once; it must count what the ORM counts."""
    from orders.selectors import history_version

    first = place(customer, (shelf["filters"], 1)).json()["id"]
    place(customer, (shelf["kettle"], 1))
    customer.post(f"/orders/{first}/cancel/")
    place(role_client("CUSTOMER", user_id=99), (shelf["filters"], 1))

    for user_id, events in ((41, 3), (99, 1), (5, 0)):
        assert OrderEvent.objects.filter(order__user_id=user_id).count() == events
        assert history_version(user_id=user_id) == events


def test_a_cached_history_page_belongs_to_its_customer_filters_page_and_host(
    customer, role_client, shelf
):
    older = place(customer, (shelf["filters"], 1)).json()["id"]
    newer = place(customer, (shelf["filters"], 1)).json()["id"]
    customer.post(f"/orders/{older}/cancel/")
    customer.get("/orders/history/")
    customer.get("/orders/history/?page_size=1")
    other = role_client("CUSTOMER", user_id=99)
    for _ in range(3):  # as many events as the customer's orders have
        place(other, (shelf["filters"], 1))

    assert other.get("/orders/history/").json()["count"] == 3
    cancelled = customer.get("/orders/history/?status=CANCELLED").json()
    assert [order["id"] for order in cancelled["results"]] == [older]
    second = customer.get("/orders/history/?page_size=1&page=2").json()
    assert [order["id"] for order in second["results"]] == [older]
    elsewhere = customer.get("/orders/history/?page_size=1", HTTP_HOST="testserver:8004").json()
    assert elsewhere["next"].startswith("http://testserver:8004/")
    assert (
        customer.get("/orders/history/?page_size=1").json()["next"].startswith("http://testserver/")
    )
    assert [order["id"] for order in elsewhere["results"]] == [newer]


def test_an_empty_history_page(customer, db):
    assert customer.get("/orders/history/").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_another_customers_order_is_404_everywhere(customer, role_client, shelf):
    order_id = place(customer, (shelf["kettle"], 1)).json()["id"]
    other = role_client("CUSTOMER", user_id=77)

    for path in (f"/orders/{order_id}/", f"/orders/{order_id}/track/"):
        response = other.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "order_not_found"
    assert other.post(f"/orders/{order_id}/cancel/").status_code == 404
    assert Order.objects.get(pk=order_id).status == "PENDING"


def test_staff_see_any_order(customer, staff, shelf):
    order_id = place(customer, (shelf["kettle"], 1)).json()["id"]

    assert staff.get(f"/orders/{order_id}/").status_code == 200


def test_track_shows_the_dated_history(customer, staff, shelf):
    order = place(customer, (shelf["kettle"], 1)).json()
    services.payment_succeeded(
        order_id=order["id"], payment_reference="pay_1", by="service:shop-payment"
    )
    staff.put(f"/orders/{order['id']}/status/", {"status": "CONFIRMED"})
    staff.put(
        f"/orders/{order['id']}/status/",
        {"status": "SHIPPED", "tracking_number": "1Z999", "carrier": "UPS"},
    )

    track = customer.get(f"/orders/{order['id']}/track/").json()

    assert track["order_number"] == order["order_number"]
    assert (track["current_status"], track["tracking_number"], track["carrier"]) == (
        "SHIPPED",
        "1Z999",
        "UPS",
    )
    assert [(step["status"], step["by"]) for step in track["status_history"]] == [
        ("PENDING", "user:41"),
        ("PAID", "service:shop-payment"),
        ("CONFIRMED", "staff:7"),
        ("SHIPPED", "staff:7"),
    ]
    assert all(step["at"] for step in track["status_history"])


def test_the_first_releases_api_prefix_serves_the_same_views(customer, shelf):
    order_id = place(customer, (shelf["kettle"], 1)).json()["id"]

    assert customer.get(f"/api/orders/{order_id}").json()["id"] == order_id
    assert customer.get("/api/orders/history/").json()["count"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/orders/"),
        ("get", "/orders/history/"),
        ("get", "/orders/1/"),
        ("get", "/orders/1/track/"),
        ("post", "/orders/1/cancel/"),
        ("post", "/orders/1/confirm/"),
        ("put", "/orders/1/status/"),
    ],
)
def test_anonymous_callers_get_401(api_client, user_service, method, path):
    assert getattr(api_client, method)(path).status_code == 401


# --- the state machine -----------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end"), list(itertools.product(OrderStatus.values, repeat=2)))
def test_every_pair_of_states(start, end, shelf):
    order = Order.objects.create(
        order_number=f"ORD-T-{start}-{end}",
        user_id=1,
        status=start,
        currency="USD",
        subtotal=0,
        tax_amount=0,
        shipping_amount=0,
        total_amount=0,
        shipping_address=ADDRESS,
        billing_address=ADDRESS,
    )

    if end in TRANSITIONS[start]:
        services.transition(order_id=order.id, to=end, by="test")
        order.refresh_from_db()
        assert order.status == end
        assert OrderEvent.objects.filter(order=order, from_status=start, to_status=end).count() == 1
    else:
        with pytest.raises(IllegalTransition) as refused:
            services.transition(order_id=order.id, to=end, by="test")
        assert refused.value.details == {"from": start, "to": end}
        order.refresh_from_db()
        assert order.status == start
        assert not OrderEvent.objects.filter(order=order).exists()


def test_an_illegal_move_is_a_409_naming_both_states(customer, staff, shelf):
    order_id = place(customer, (shelf["kettle"], 1)).json()["id"]

    response = staff.put(f"/orders/{order_id}/status/", {"status": "SHIPPED"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "illegal_transition"
    assert response.json()["error"]["details"] == {"from": "PENDING", "to": "SHIPPED"}


def test_staff_cannot_mark_an_order_paid(customer, staff, shelf):
    order_id = place(customer, (shelf["kettle"], 1)).json()["id"]

    assert staff.put(f"/orders/{order_id}/status/", {"status": "PAID"}).status_code == 409


def test_staff_cannot_mark_an_order_refunded_only_a_refund_does(customer, staff, shelf):
    order_id = place(customer, (shelf["kettle"], 1)).json()["id"]
    Order.objects.filter(pk=order_id).update(status="DELIVERED")

    response = staff.put(f"/orders/{order_id}/status/", {"status": "REFUNDED"})

    assert response.status_code == 409
    assert Order.objects.get(pk=order_id).status == "DELIVERED"


def test_cancelling_releases_the_stock_and_only_pending_orders_cancel(
    customer, shelf, product_service
):
    order = place(customer, (shelf["kettle"], 2)).json()

    cancelled = customer.post(f"/orders/{order['id']}/cancel/")
    again = customer.post(f"/orders/{order['id']}/cancel/")

    assert cancelled.json()["status"] == "CANCELLED"
    assert product_service.reservations[order["order_number"]]["status"] == "RELEASED"
    assert product_service.products[shelf["kettle"]]["available"] == 5
    assert again.status_code == 409


@pytest.mark.parametrize(("role", "status"), [("CUSTOMER", 403), ("STAFF", 200), ("ADMIN", 200)])
def test_only_staff_confirm(customer, role_client, shelf, role, status):
    order_id = place(customer, (shelf["kettle"], 1)).json()["id"]
    services.payment_succeeded(order_id=order_id, payment_reference="pay_9", by="test")

    response = role_client(role, user_id=41).post(f"/orders/{order_id}/confirm/")

    assert response.status_code == status
    assert Order.objects.get(pk=order_id).status == ("CONFIRMED" if status == 200 else "PAID")


# --- expiry ----------------------------------------------------------------------------------


def test_pending_orders_past_the_ttl_are_cancelled_and_release_their_stock(
    customer, shelf, product_service
):
    old = place(customer, (shelf["kettle"], 2)).json()
    fresh = place(customer, (shelf["kettle"], 1)).json()
    Order.objects.filter(pk=old["id"]).update(created_at=timezone.now() - timedelta(minutes=16))

    call_command("expire_pending_orders")

    assert Order.objects.get(pk=old["id"]).status == "CANCELLED"
    assert Order.objects.get(pk=fresh["id"]).status == "PENDING"
    assert product_service.reservations[old["order_number"]]["status"] == "RELEASED"
    assert product_service.products[shelf["kettle"]]["available"] == 4


# --- placing and paying in one call (the integration service's checkout) ----------------------


def test_with_payment_the_order_starts_its_payment_at_its_own_amount(
    customer, shelf, payment_service
):
    placed = place(customer, (shelf["kettle"], 1), key="k-pay", payment={})

    assert placed.status_code == 201
    order = placed.json()
    assert order["payment"]["order_id"] == order["id"]
    assert order["payment"]["status"] == "PENDING"
    sent = json.loads(payment_service.start.calls.last.request.content)
    assert sent == {
        "order_id": order["id"],
        "order_number": order["order_number"],
        "user_id": 41,
        "status": "PENDING",
        "total_amount": order["total_amount"],
        "currency": "USD",
    }
    assert "payment_error" not in order
    # Retried with its key: the same order and the same open payment.
    again = place(customer, (shelf["kettle"], 1), key="k-pay", payment={})
    assert again.status_code == 200
    assert again.json()["payment"] == order["payment"]
    assert Order.objects.count() == 1


def test_without_payment_no_payment_is_started_or_answered(customer, shelf, payment_service):
    placed = place(customer, (shelf["kettle"], 1))

    assert "payment" not in placed.json()
    assert not payment_service.start.called


def test_a_payment_service_that_is_down_leaves_the_order_pending_and_says_so(
    customer, shelf, payment_service
):
    payment_service.down = True

    placed = place(customer, (shelf["kettle"], 1), payment={"gateway": "stripe"})

    assert placed.status_code == 201
    body = placed.json()
    assert (body["status"], body["payment"]) == ("PENDING", None)
    assert body["payment_error"]["status"] == 503
    assert body["payment_error"]["error"]["details"]["service"] == "payment"
    assert Order.objects.get().status == OrderStatus.PENDING


def test_a_payment_refusal_is_passed_on_beside_the_order(customer, shelf, payment_service):
    placed = place(customer, (shelf["kettle"], 1), payment={"gateway": "razorpay"})

    assert placed.status_code == 201
    assert placed.json()["payment"] is None
    assert placed.json()["payment_error"]["status"] == 400
    assert placed.json()["payment_error"]["error"]["code"] == "gateway_not_available"


def test_a_refused_placement_starts_no_payment(customer, shelf, payment_service):
    placed = place(customer, (shelf["kettle"], 6), payment={})

    assert placed.status_code == 409
    assert not payment_service.start.called
