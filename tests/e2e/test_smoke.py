"""All six services, under the server, answer the contract every service keeps."""

import httpx
import pytest

from shop_common.topology import SERVICES

SERVICE_NAMES = [service.name for service in SERVICES]


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_health_is_ok_with_the_database(stack, name):
    response = httpx.get(f"{stack.url(name)}/health/", timeout=5)

    assert response.status_code == 200
    body = response.json()
    assert body["service"] == name
    assert body["database"]["status"] == "ok"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_openapi_schema_is_served(stack, name):
    response = httpx.get(f"{stack.url(name)}/api/schema/?format=json", timeout=5)

    assert response.status_code == 200
    assert "/health/" in response.json()["paths"]


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_unknown_path_is_a_json_404_with_the_request_id(stack, name):
    response = httpx.get(
        f"{stack.url(name)}/definitely/not/here", headers={"X-Request-ID": "e2e-404"}, timeout=5
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "e2e-404"
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_wrong_method_is_a_json_405(stack, name):
    response = httpx.post(f"{stack.url(name)}/health", content=b"{broken", timeout=5)

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_interactive_docs_work_offline_with_their_own_assets(stack):
    page = httpx.get(f"{stack.url('product')}/api/docs/", timeout=5)
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()

    bundle = httpx.get(
        f"{stack.url('product')}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        timeout=5,
    )
    assert bundle.status_code == 200


@pytest.mark.parametrize("name", ["product", "payment"])
def test_staff_admin_login_page_is_served_with_its_styles(stack, name):
    page = httpx.get(f"{stack.url(name)}/admin/login/", timeout=5)
    assert page.status_code == 200
    assert "Django administration" in page.text or "Log in" in page.text

    css = httpx.get(f"{stack.url(name)}/static/admin/css/base.css", timeout=5)
    assert css.status_code == 200
