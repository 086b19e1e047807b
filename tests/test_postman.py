"""docs/postman/ is what `make postman` writes from the schemas and scripts/postman_requests.py."""

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_committed_collection_and_environment_match_the_generator(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location(
        "export_api_docs", ROOT / "scripts" / "export_api_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "stdout", open("/dev/null", "w"))  # noqa: SIM115 (closed with the test)

    module.export_postman(tmp_path)

    for name in ("shop.postman_collection.json", "shop.postman_environment.json"):
        committed = (ROOT / "docs" / "postman" / name).read_text()
        assert committed == (tmp_path / name).read_text(), f"run `make postman`: {name} is stale"


def collection() -> dict:
    return json.loads((ROOT / "docs" / "postman" / "shop.postman_collection.json").read_text())


def requests() -> list[dict]:
    return [item for folder in collection()["item"] for item in folder["item"]]


def test_every_request_has_a_description_and_a_saved_answer():
    for item in requests():
        assert item["request"]["description"].strip(), f"{item['name']}: no description"
        (example,) = item.get("response", [None])
        assert example, f"{item['name']}: no saved answer (make postman-examples)"
        assert example["originalRequest"] == item["request"]


def test_a_request_sent_on_its_own_gets_its_variables_and_tokens():
    whole = collection()
    defaults = {variable["key"]: variable["value"] for variable in whole["variable"]}
    (script,) = [event for event in whole["event"] if event["listen"] == "prerequest"]
    code = "\n".join(script["script"]["exec"])

    assert "run" in defaults
    assert defaults["user_url"] == "http://127.0.0.1:8001"
    for role in ("customer", "staff", "admin"):
        assert defaults[f"{role}_email"]
        assert defaults[f"{role}_password"]
        assert f"{role}_token" in code
    assert "/auth/refresh/" in code
    assert "/auth/login/" in code


def test_staff_refund_a_paid_order_in_the_collection():
    (refund,) = [item for item in requests() if item["name"].startswith("Refund part of")]
    bearer = refund["request"]["auth"]["bearer"][0]["value"]

    assert refund["request"]["url"]["raw"].endswith("/refund/")
    assert bearer == "{{staff_token}}"
    assert refund["response"][0]["code"] == 201


def test_the_collection_points_to_a_readme_that_exists():
    assert "docs/postman/README.md" in collection()["info"]["description"]
    assert (ROOT / "docs" / "postman" / "README.md").exists()
