import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health/", "/health"])
def test_paths_answer_with_and_without_trailing_slash(api_client, path):
    assert api_client.get(path).status_code == 200


def test_post_without_trailing_slash_reaches_the_view_with_its_body(api_client):
    response = api_client.post("/echo", {"quantity": 2, "price": "1.10"})

    assert response.status_code == 200
    assert response.json() == {"received": {"quantity": 2, "price": "1.10"}}


@pytest.mark.parametrize("path", ["/legacy/validate_token", "/legacy/validate_token/"])
def test_path_declared_without_slash_answers_with_one_too(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.json() == {"path": "/legacy/validate_token"}


def test_unknown_path_stays_404_in_either_spelling(client):
    assert client.get("/echo/extra").status_code == 404
    assert client.get("/nothing").status_code == 404
