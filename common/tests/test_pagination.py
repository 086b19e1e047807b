import pytest


def test_pages_default_to_twenty_items(api_client):
    body = api_client.get("/pages/").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 250
    assert body["results"] == list(range(20))


def test_page_and_page_size_select_the_slice(api_client):
    body = api_client.get("/pages/?page=3&page_size=100").json()

    assert body["results"] == list(range(200, 250))
    assert body["next"] is None


@pytest.mark.parametrize("page_size", ["101", "0", "-1", "ten"])
def test_page_size_out_of_range_is_a_400(api_client, page_size):
    response = api_client.get(f"/pages/?page_size={page_size}")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "page_size" in error["details"]


def test_page_past_the_end_is_a_404(api_client):
    response = api_client.get("/pages/?page=99")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_paginated_response_serializes_one_page(api_client):
    body = api_client.get("/serialized-pages/?page=2&page_size=3").json()

    assert body["count"] == 250
    assert body["results"] == [{"number": 3}, {"number": 4}, {"number": 5}]
    assert "page=3" in body["next"]
