"""Catalog staff in the Django admin: logging in through the user service, and editing the catalog."""

import json

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from catalog.models import Product
from shop_common.auth import mark_sessions_changed
from shop_common.staff_admin import SESSION_KEY
from shop_common.testing.fixtures import admin_log_in

pytestmark = pytest.mark.django_db


def change_form(product, **changes) -> dict:
    """What the admin's change page posts for ``product``, with ``changes``."""
    form = {
        "title": product.title,
        "slug": product.slug,
        "sku": product.sku,
        "description": "",
        "category": product.category_id,
        "price": str(product.price),
        "currency": "USD",
        "image_url": "",
        "is_active": "on",
        "stock_on_hand": product.stock_on_hand,
    }
    return form | changes


@pytest.fixture
def staff_browser(admin_browser_as):
    return admin_browser_as("STAFF", "clerk@shop.test", "clerk-pass-123")


def test_staff_log_in_with_their_user_service_password(staff_browser, user_service):
    user = User.objects.get(username="clerk@shop.test")

    assert user.is_staff
    assert not user.is_superuser
    assert not user.has_usable_password()
    assert user.groups.filter(name="Catalog staff").exists()
    assert user.has_perm("catalog.change_product")
    assert not user.has_perm("auth.change_user")
    assert staff_browser.get("/admin/catalog/product/").status_code == 200
    session_id = staff_browser.session[SESSION_KEY]
    assert user_service.sessions[session_id]["active"], "the admin keeps a user-service session"


def test_the_password_check_counts_the_persons_own_address(client, user_service, settings):
    settings.TRUSTED_PROXIES = 0
    user_service.add_login("clerk@shop.test", "clerk-pass-123", "STAFF")

    client.post(
        "/admin/login/?next=/admin/",
        {"username": "clerk@shop.test", "password": "clerk-pass-123"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )

    sent = json.loads(user_service.staff_login.calls.last.request.content)
    assert sent["client_address"] == "203.0.113.7", "X-Forwarded-For of an untrusted client"


def test_a_throttled_login_says_so(client, user_service):
    user_service.add_login("clerk@shop.test", "clerk-pass-123", "STAFF")
    user_service.throttled = True

    response = admin_log_in(client, "clerk@shop.test", "clerk-pass-123")

    assert response.status_code == 200
    assert b"Too many failed attempts" in response.content
    assert not User.objects.exists()


def end(user_service, browser, **changes) -> str:
    session_id = browser.session[SESSION_KEY]
    state = user_service.sessions[session_id]
    state["active"] = changes.get("active", True)
    state["user"]["roles"] = changes.get("roles", state["user"]["roles"])
    return session_id


@pytest.mark.parametrize(
    "change", [{"active": False}, {"roles": ["CUSTOMER"]}], ids=["deactivated", "lost STAFF"]
)
def test_the_admin_session_ends_with_a_shared_cache_at_once(staff_browser, user_service, change):
    assert staff_browser.get("/admin/catalog/product/").status_code == 200  # the state is cached
    session_id = end(user_service, staff_browser, **change)
    mark_sessions_changed([session_id], for_seconds=60)  # what the user service writes to Redis

    response = staff_browser.get("/admin/catalog/product/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert SESSION_KEY not in staff_browser.session


def test_without_a_shared_cache_the_admin_session_ends_within_the_ttl(
    staff_browser, user_service, settings
):
    assert staff_browser.get("/admin/catalog/product/").status_code == 200
    end(user_service, staff_browser, active=False)
    assert staff_browser.get("/admin/catalog/product/").status_code == 200, "cached for the TTL"

    cache.clear()  # what the passing of AUTH_CACHE_TTL seconds does

    assert staff_browser.get("/admin/catalog/product/").status_code == 302


def test_an_admin_session_of_a_user_service_session_that_is_gone_ends(staff_browser, user_service):
    user_service.sessions.clear()
    cache.clear()

    assert staff_browser.get("/admin/").status_code == 302


def test_logging_out_of_the_admin_ends_the_user_service_session(staff_browser, user_service):
    session_id = staff_browser.session[SESSION_KEY]

    staff_browser.post("/admin/logout/")

    assert not user_service.sessions[session_id]["active"]


def test_a_customer_gets_no_admin_session_and_no_user_service_session(client, user_service):
    user_service.add_login("shopper@shop.test", "shopper-pass-1", "CUSTOMER")

    admin_log_in(client, "shopper@shop.test", "shopper-pass-1")

    assert [state["active"] for state in user_service.sessions.values()] == [False]


def test_an_admin_becomes_superuser_of_this_admin(client, user_service):
    user_service.add_login("boss@shop.test", "boss-pass-123", "ADMIN")

    assert admin_log_in(client, "boss@shop.test", "boss-pass-123").status_code == 302
    assert User.objects.get(username="boss@shop.test").is_superuser


@pytest.mark.parametrize("who", ["customer", "wrong password", "unknown"])
def test_customers_and_wrong_logins_get_the_usual_admin_message(client, user_service, who):
    user_service.add_login("shopper@shop.test", "shopper-pass-1", "CUSTOMER")
    email, password = {
        "customer": ("shopper@shop.test", "shopper-pass-1"),
        "wrong password": ("shopper@shop.test", "nope"),
        "unknown": ("ghost@shop.test", "nope"),
    }[who]

    response = admin_log_in(client, email, password)

    assert response.status_code == 200
    assert b"Please enter the correct email and password for a staff account" in response.content
    assert not User.objects.exists()


def test_user_service_down_is_a_clear_message_not_a_500(client, user_service):
    user_service.down = True

    response = admin_log_in(client, "clerk@shop.test", "clerk-pass-123")

    assert response.status_code == 200
    assert b"user service cannot be reached" in response.content


def test_the_product_list_has_the_columns_a_catalog_team_needs(staff_browser, product):
    page = staff_browser.get("/admin/catalog/product/?q=BOOK-1").content.decode()

    for column in ("Title", "Sku", "Category", "Price", "Stock on hand", "Available", "Is active"):
        assert column in page
    assert "Refactoring" in page


def test_a_price_changed_in_the_admin_is_served_by_the_api_at_once(
    staff_browser, api_client, product, django_capture_on_commit_callbacks
):
    assert api_client.get(f"/products/{product.id}/").json()["price"] == "44.50"
    form = change_form(product, price="19.99")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_browser.post(f"/admin/catalog/product/{product.id}/change/", form)

    assert response.status_code == 302
    assert api_client.get(f"/products/{product.id}/").json()["price"] == "19.99"
    assert api_client.get("/products/").json()["results"][0]["price"] == "19.99"


def test_bulk_deactivate_hides_products_from_the_api(
    staff_browser, api_client, product, django_capture_on_commit_callbacks
):
    assert api_client.get("/products/").json()["count"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        staff_browser.post(
            "/admin/catalog/product/", {"action": "deactivate", "_selected_action": [product.id]}
        )

    assert not Product.objects.get(pk=product.pk).is_active
    assert api_client.get("/products/").json()["count"] == 0


def test_the_admin_refuses_stock_below_what_is_reserved(staff_browser, product):
    Product.objects.filter(pk=product.pk).update(stock_reserved=6)
    form = change_form(product, stock_on_hand=5)

    response = staff_browser.post(f"/admin/catalog/product/{product.id}/change/", form)

    assert response.status_code == 200
    assert b"6 units are reserved" in response.content
    assert Product.objects.get(pk=product.pk).stock_on_hand == 10
