"""What people outside the code use: docs/postman/'s collection under newman, and the commands in
README.md, each run against a stack of their own (both make staff changes, buy demo stock and sign
up customers, which the other end-to-end tests do not expect)."""

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shop_common.topology import SERVICES, STRIPE_SANDBOX
from tests.e2e.helpers import running_stack

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from newman import NEWMAN, newman_command  # noqa: E402 (a script, not a package)

RUNS = 2


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    # newman and curl sign up from 127.0.0.1 on every run.
    with running_stack(tmp_path_factory, "clients", SIGNUP_RATE_PER_IP="10000/hour") as shop:
        yield shop


@pytest.mark.skipif(not NEWMAN.exists(), reason="newman not installed (scripts/install-newman.sh)")
def test_the_postman_collection_passes_twice_on_the_same_stack(shop, tmp_path):
    urls = {service.name: shop.url(service.name) for service in SERVICES}
    client_secrets = {
        service.name: shop.secrets[service.client_secret_variable] for service in SERVICES
    }
    counts = []
    for run in range(1, RUNS + 1):
        report = tmp_path / f"run-{run}.json"
        completed = subprocess.run(  # noqa: S603 (newman, fixed arguments)
            newman_command(
                urls,
                client_secrets,
                "--reporters",
                "cli,json",
                "--reporter-json-export",
                str(report),
            ),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert report.exists(), (
            f"run {run}: no report\n{completed.stdout[-3000:]}{completed.stderr}"
        )
        result = json.loads(report.read_text())["run"]
        assert completed.returncode == 0, f"run {run}:\n" + "\n".join(failures(result))
        stats = result["stats"]
        # Every request of the collection ran and made assertions (the journey's tracking request
        # may run more than once while the webhook is on its way).
        requests = sum(len(folder["item"]) for folder in collection()["item"])
        assert stats["requests"]["total"] >= requests
        assert stats["requests"]["failed"] == 0
        assert stats["assertions"]["failed"] == 0
        assert stats["assertions"]["total"] >= 2 * requests
        counts.append(
            f"run {run}: {stats['requests']['total']} requests, "
            f"{stats['assertions']['total']} assertions, 0 failed"
        )
    # make test prints it in its summary (scripts/run_tests.py).
    results = ROOT / "var" / "test-results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "newman.txt").write_text(f"newman: {'; '.join(counts)}\n")


# A token of the right shape that expired long ago (its signature is never checked here: the
# collection's script reads its expiry and logs in instead of sending it).
EXPIRED = ".".join(
    base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
    for part in ({"alg": "HS256", "typ": "JWT"}, {"exp": 1_000_000_000, "user_id": 1}, {})
)


@pytest.mark.skipif(not NEWMAN.exists(), reason="newman not installed (scripts/install-newman.sh)")
def test_single_requests_work_on_their_own_as_a_person_sends_them(shop, tmp_path):
    """No earlier request logged anyone in or set `run`; the customer's token has expired."""
    urls = {service.name: shop.url(service.name) for service in SERVICES}
    client_secrets = {
        service.name: shop.secrets[service.client_secret_variable] for service in SERVICES
    }
    report = tmp_path / "single.json"
    requests = ("List customers (admin)", "Create a category (staff)", "My cart")
    completed = subprocess.run(  # noqa: S603 (newman, fixed arguments)
        newman_command(
            urls,
            client_secrets,
            *(argument for name in requests for argument in ("--folder", name)),
            "--env-var",
            f"customer_token={EXPIRED}",
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert report.exists(), completed.stdout[-3000:] + completed.stderr
    result = json.loads(report.read_text())["run"]
    assert completed.returncode == 0, "\n".join(failures(result))
    names = [execution["item"]["name"] for execution in result["executions"]]
    assert list(dict.fromkeys(names)) == list(requests)
    # Each request was preceded by the script's own login (newman counts it as a request).
    assert result["stats"]["items"]["total"] == len(requests)
    assert result["stats"]["requests"]["total"] == 2 * len(requests)
    assert result["stats"]["assertions"]["failed"] == 0


def failures(result: dict) -> list[str]:
    """Each failed request or assertion with the answer it got, shorter than newman's table."""
    answers = {
        execution["item"]["id"]: execution.get("response") or {}
        for execution in result["executions"]
    }
    lines = []
    for failure in result["failures"]:
        response = answers.get(failure["source"].get("id"), {})
        body = bytes(response.get("stream", {}).get("data", [])).decode(errors="replace")
        lines.append(
            f"{failure['source'].get('name')}: {failure['error'].get('test', '')} "
            f"{failure['error'].get('message')} -> {response.get('code')} {body[:300]}"
        )
    return lines


def collection() -> dict:
    return json.loads((ROOT / "docs" / "postman" / "shop.postman_collection.json").read_text())


def test_every_request_of_the_collection_has_tests():
    for folder in collection()["item"]:
        for item in folder["item"]:
            scripts = [event for event in item["event"] if event["listen"] == "test"]
            assert scripts, f"{folder['name']} / {item['name']} has no tests"
            assert any("pm.test(" in line for line in scripts[0]["script"]["exec"])
            for variable in item["request"]["url"].get("variable", []):
                assert variable["value"], f"{item['name']}: no value for :{variable['key']}"


README = ROOT / "README.md"


def readme_service_blocks() -> list[str]:
    """The README's shell blocks that talk to the services, in order."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.DOTALL)
    return [block for block in blocks if "curl " in block]


def test_the_readme_commands_run_against_a_stack(shop, tmp_path):
    blocks = readme_service_blocks()
    assert len(blocks) >= 4
    script = "\n".join(blocks)
    ports = {service.port: shop.url(service.name) for service in SERVICES}
    ports[STRIPE_SANDBOX.port] = shop.url(STRIPE_SANDBOX.name)
    for port, url in ports.items():
        script = re.sub(
            rf"\b(localhost|127\.0\.0\.1):{port}\b", url.removeprefix("http://"), script
        )
    assert not re.search(r"\b(localhost|127\.0\.0\.1):(80\d\d|12111)\b", script), script
    # What a reader would notice by eye: any answer other than 2xx or 3xx stops the script.
    prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'
    (tmp_path / "readme.sh").write_text(prelude + script)

    completed = subprocess.run(  # noqa: S603 (the README's own commands)
        ["/bin/bash", str(tmp_path / "readme.sh")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, f"{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
    output = completed.stdout
    assert '"expires_in"' in output  # the login
    assert '"current_status"' in output  # the tracked order
    assert '"checkout_url"' in output  # the integration's checkout
    assert output.rstrip().endswith("204")  # the logout


def test_the_readme_shows_what_make_run_prints():
    import announce  # scripts/, on sys.path above

    defaults = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith("_SERVICE_URL") and not name.endswith("_API_BASE")
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "environ", defaults)
        banner = announce.banner()

    assert f"```text\n{banner}\n```" in README.read_text()
