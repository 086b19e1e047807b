"""docs/postman/ is what `make postman` writes from the schemas and scripts/postman_requests.py."""

import importlib.util
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
