import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    """A DRF client that sends and expects JSON."""
    client = APIClient()
    client.default_format = "json"
    return client
