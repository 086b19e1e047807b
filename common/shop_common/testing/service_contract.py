"""Tests every service runs against itself: each service's ``tests/test_service_contract.py`` holds
``class TestServiceContract(ServiceContract): pass``, so a test added to the class runs in every
service (tests/test_repository.py checks that each service has that subclass, and that this module
has no test outside the class).

They run with the service's real settings and database (MariaDB in CI), so they also prove that its
migrations apply and that its routing, error shape and documentation are wired.
"""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, connection


@pytest.mark.django_db
class ServiceContract:
    """The contract; not collected itself (its name does not start with ``Test``)."""

    def test_health_names_the_service_and_its_database(self, api_client):
        response = api_client.get("/health/")

        assert response.status_code == 200
        body = response.json()
        assert body["service"] == settings.SERVICE_NAME
        assert body["version"] == settings.SERVICE_VERSION
        assert body["status"] == "ok"
        assert body["database"] == {"status": "ok", "vendor": connection.vendor}

    def test_health_is_503_in_the_error_shape_when_the_database_is_unreachable(
        self, api_client, monkeypatch
    ):
        def refuse(*args, **kwargs):
            raise OperationalError("Can't connect to server")

        monkeypatch.setattr(connection, "cursor", refuse)

        response = api_client.get("/health/")

        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["database"]["status"] == "unavailable"
        assert body["error"]["code"] == "dependency_unavailable"

    def test_health_answers_without_the_trailing_slash(self, api_client):
        assert api_client.get("/health").status_code == 200

    def test_openapi_schema_lists_the_health_path(self, api_client):
        response = api_client.get("/api/schema/?format=json")

        assert response.status_code == 200
        schema = response.json()
        assert schema["openapi"].startswith("3.")
        assert "/health/" in schema["paths"]

    def test_interactive_docs_page_is_served(self, api_client):
        response = api_client.get("/api/docs/")

        assert response.status_code == 200
        assert b"swagger-ui" in response.content

    def test_unknown_path_is_a_json_404(self, api_client):
        response = api_client.get("/no/such/path/")

        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "not_found"

    def test_wrong_method_is_a_json_405(self, api_client):
        response = api_client.delete("/health/")

        assert response.status_code == 405
        assert response.json()["error"]["code"] == "method_not_allowed"

    def test_every_response_carries_the_callers_request_id(self, api_client):
        response = api_client.get("/health/", HTTP_X_REQUEST_ID="contract-test-1")

        assert response["X-Request-ID"] == "contract-test-1"

    def test_models_and_migrations_agree(self):
        out = StringIO()
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
