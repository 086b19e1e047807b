#!/usr/bin/env python
"""Writes the API documents that live in docs/ from the services' own OpenAPI schemas.

    python scripts/export_api_docs.py schema    # docs/api/<service>.yaml, and <service>.internal.yaml
                                                # for its /internal/ endpoints (`make schema`)
    python scripts/export_api_docs.py postman   # docs/postman/ (`make postman`)
    python scripts/export_api_docs.py postman-examples  # its saved answers, from a demo stack

Both are generated, never edited by hand: change the views, then run `make schema postman`.
"""

import argparse
import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from postman_requests import (  # beside this script, on sys.path when it runs
    COLLECTION_PREREQUEST,
    FOLDERS,
    Req,
    Var,
)

from shop_common.demo import DEMO_USERS
from shop_common.dotenv import without_dotenv
from shop_common.topology import SANDBOXES, SERVICES, Service

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("get", "post", "put", "patch", "delete")


def openapi(service: Service, fmt: str, *, internal: bool = False) -> str:
    """The service's public schema, or with ``internal`` its /internal/ endpoints alone."""
    # Development mode: the schema needs no real secrets, and none should be required to build it.
    # SQLite always: integer bounds in the schema come from the database backend's field ranges.
    # No .env: the documents are the code's, not one checkout's configuration.
    env = {
        **os.environ,
        "DEBUG": "True",
        "DB_ENGINE": "sqlite",
        "DOTENV_DIR": str(without_dotenv(ROOT / "var" / "no-dotenv")),
    }
    env.pop("DB_NAME", None)
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--format",
            fmt,
            "--validate",
            "--fail-on-warn",
            *(["--custom-settings", "shop_common.schema.INTERNAL_SCHEMA"] if internal else []),
        ],
        cwd=ROOT / service.folder,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def export_schemas() -> None:
    target = ROOT / "docs" / "api"
    target.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        (target / f"{service.folder}.yaml").write_text(openapi(service, "openapi"))
        sys.stdout.write(f"wrote docs/api/{service.folder}.yaml\n")
        internal = target / f"{service.folder}.internal.yaml"
        if json.loads(openapi(service, "openapi-json", internal=True))["paths"]:
            internal.write_text(openapi(service, "openapi", internal=True))
            sys.stdout.write(f"wrote docs/api/{internal.name}\n")
        else:
            internal.unlink(missing_ok=True)


def _json_body(value: Any) -> str:
    """JSON with each ``Var`` written as its collection variable, unquoted (a number)."""

    def encode(item: Any) -> Any:
        if isinstance(item, Var):
            return f"@@{item.name}@@"
        if isinstance(item, dict):
            return {key: encode(val) for key, val in item.items()}
        if isinstance(item, list):
            return [encode(val) for val in item]
        return item

    text = json.dumps(encode(value), indent=2)
    return re.sub(r'"@@([a-z_]+)@@"', r"{{\1}}", text)


def _tests(req: Req) -> list[str]:
    statuses = req.status if isinstance(req.status, tuple) else (req.status,)
    lines = [
        "let body = null;",
        "try { body = pm.response.json(); } catch (e) { body = null; }",
    ]
    if len(statuses) == 1:
        lines.append(
            f"pm.test('status {statuses[0]}', () => pm.response.to.have.status({statuses[0]}));"
        )
    else:
        lines.append(
            f"pm.test('status one of {list(statuses)}', () => "
            f"pm.expect(pm.response.code).to.be.oneOf({json.dumps(list(statuses))}));"
        )
    if req.fields:
        lines.append(
            f"pm.test('answers {', '.join(req.fields)}', () => "
            f"pm.expect(body).to.include.all.keys({json.dumps(list(req.fields))}));"
        )
    if req.error:
        # Every error, whoever raises it, has one shape (docs/architecture.md, "Errors").
        code = "" if req.error == "*" else f" {req.error}"
        lines += [
            f"pm.test('error shape{code}', () => {{",
            "  pm.expect(body).to.have.all.keys(['error']);",
            "  pm.expect(body.error.code).to.be.a('string');",
            "  pm.expect(body.error.message).to.be.a('string');",
            "  pm.expect(body.error).to.have.property('details');",
            *([f"  pm.expect(body.error.code).to.eql({json.dumps(req.error)});"] if code else []),
            "});",
        ]
    for name, expression in zip(req.checks[::2], req.checks[1::2], strict=True):
        lines.append(f"pm.test({json.dumps(name)}, () => pm.expect({expression}).to.be.true);")
    for variable, expression in req.capture.items():
        lines.append(
            f"if (body && {json.dumps(list(statuses))}.includes(pm.response.code)) "
            f"{{ pm.collectionVariables.set({json.dumps(variable)}, String({expression})); }}"
        )
    return [*lines, *req.tests]


def _url(req: Req) -> dict[str, Any]:
    query = [{"key": key, "value": value} for key, value in req.query.items()]
    if req.service == "sandbox":
        # The page's address is captured whole from the checkout's answer.
        raw = req.path
        return {"raw": raw, "host": [raw]}
    segments = [
        f":{part[1:-1]}" if part.startswith("{") else part
        for part in req.path.strip("/").split("/")
    ]
    trailing = "/" if req.path.endswith("/") else ""
    raw = f"{{{{{req.service}_url}}}}/{'/'.join(segments)}{trailing}"
    if query:
        raw += "?" + "&".join(f"{item['key']}={item['value']}" for item in query)
    url: dict[str, Any] = {
        "raw": raw,
        "host": [f"{{{{{req.service}_url}}}}"],
        "path": [*segments, *([""] if trailing else [])],
    }
    if query:
        url["query"] = query
    variables = [part[1:] for part in segments if part.startswith(":")]
    if set(variables) != set(req.params):
        raise SystemExit(f"{req.name}: path variables {variables}, values for {sorted(req.params)}")
    if variables:
        url["variable"] = [{"key": name, "value": req.params[name]} for name in variables]
    return url


ROLE_TOKENS = {f"{role}_token": role for role in ("customer", "staff", "admin")}


def describe(req: Req, operation: dict | None) -> str:
    """What the request is for (its own words, else its operation's), then what this collection
    sends and expects of it."""
    purpose = req.description or (operation or {}).get("description") or ""
    if not purpose and operation:
        purpose = operation.get("summary", "")
    statuses = req.status if isinstance(req.status, tuple) else (req.status,)
    expects = f"Expects {' or '.join(str(status) for status in statuses)}"
    if req.error:
        expects += " in the error shape" + ("" if req.error == "*" else f" (`{req.error}`)")
    elif req.fields:
        expects += f", an answer with {', '.join(f'`{name}`' for name in req.fields)}"
    lines = [purpose.strip(), f"{expects}."] if purpose.strip() else [f"{expects}."]
    if req.auth in ROLE_TOKENS:
        lines.append(
            f"As the {ROLE_TOKENS[req.auth]} (`{{{{{req.auth}}}}}`; the collection's pre-request "
            "script logs in or refreshes when it is missing or expired)."
        )
    elif req.auth:
        lines.append(f"With the bearer token `{{{{{req.auth}}}}}` of an earlier request.")
    if req.capture:
        kept = ", ".join(f"`{name}`" for name in req.capture)
        lines.append(f"Keeps {kept} for the requests after it.")
    return "\n\n".join(lines)


def postman_item(req: Req, operation: dict | None) -> dict[str, Any]:
    headers = [{"key": key, "value": value} for key, value in req.headers.items()]
    request: dict[str, Any] = {"method": req.method, "header": headers, "url": _url(req)}
    request["description"] = describe(req, operation)
    if req.basic:
        request["auth"] = {
            "type": "basic",
            "basic": [
                {"key": "username", "value": req.basic[0], "type": "string"},
                {"key": "password", "value": req.basic[1], "type": "string"},
            ],
        }
    elif req.auth:
        request["auth"] = {
            "type": "bearer",
            "bearer": [{"key": "token", "value": f"{{{{{req.auth}}}}}", "type": "string"}],
        }
    else:
        request["auth"] = {"type": "noauth"}
    if req.form is not None:
        request["body"] = {
            "mode": "urlencoded",
            "urlencoded": [{"key": key, "value": value} for key, value in req.form.items()],
        }
    elif req.body is not None:
        headers.append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {
            "mode": "raw",
            "raw": _json_body(req.body),
            "options": {"raw": {"language": "json"}},
        }
    events = [
        {"listen": "test", "script": {"type": "text/javascript", "exec": _tests(req)}},
    ]
    if req.prerequest:
        events.insert(
            0,
            {
                "listen": "prerequest",
                "script": {"type": "text/javascript", "exec": list(req.prerequest)},
            },
        )
    item: dict[str, Any] = {"name": req.name, "event": events, "request": request}
    if not req.follow_redirects:
        item["protocolProfileBehavior"] = {"followRedirects": False}
    return item


# Each request's answer on the demo shop, recorded by `make postman-examples` (record_examples).
EXAMPLES = ROOT / "docs" / "postman" / "examples.json"
# The answer headers an example keeps: the rest differ on every run (request ids, dates).
EXAMPLE_HEADERS = ("Content-Type", "Location")
JWT = re.compile(r"eyJ[\w-]{8}[\w-]*\.[\w-]+\.[\w-]+")


def with_example(item: dict[str, Any], example: dict[str, Any] | None) -> dict[str, Any]:
    """``item`` with its saved answer (Postman's "example"), when the recorded run has one."""
    if example:
        item["response"] = [
            {
                "name": f"{example['code']} on the demo stack",
                "originalRequest": item["request"],
                "status": example["status"],
                "code": example["code"],
                "_postman_previewlanguage": "json" if example["body"][:1] in "{[" else "text",
                "header": example["header"],
                "body": example["body"],
            }
        ]
    return item


def recorded_examples(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each request's answer in a newman JSON report (the last, for a request sent again), its
    tokens shortened: they are dead, and not what an example shows."""
    examples = {}
    for execution in report["run"]["executions"]:
        response = execution.get("response")
        if not response:
            continue
        text = bytes(response.get("stream", {}).get("data", [])).decode(errors="replace")
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), indent=2)
        examples[execution["item"]["name"]] = {
            "code": response["code"],
            "status": response["status"],
            "header": [
                {"key": header["key"], "value": header["value"]}
                for header in response.get("header", [])
                if header["key"].title() in EXAMPLE_HEADERS
            ],
            "body": JWT.sub(lambda token: token.group()[:16] + "...", text),
        }
    return examples


def record_examples() -> None:
    """Runs the collection with newman against a throwaway demo shop (every service, the demo
    data, the sandboxes) and keeps each request's answer in :data:`EXAMPLES`."""
    import tempfile

    from newman import NEWMAN, newman_command

    from shop_common.testing.environment import stack_environment
    from shop_common.testing.stack import Stack

    if not NEWMAN.exists():
        raise SystemExit("newman is not installed: run scripts/install-newman.sh")
    with tempfile.TemporaryDirectory(prefix="postman-examples-") as folder:
        shop = Stack(
            repo_root=ROOT,
            workdir=Path(folder),
            services=SERVICES,
            base_env=stack_environment(DB_ENGINE="sqlite", SIGNUP_RATE_PER_IP="10000/hour"),
            demo_data=True,
        )
        try:
            shop.start()  # inside: a start that fails half way stops what it started
            report = Path(folder) / "newman.json"
            urls = {service.name: shop.url(service.name) for service in SERVICES}
            client_secrets = {
                service.name: shop.secrets[service.client_secret_variable] for service in SERVICES
            }
            extra = ("--reporters", "json", "--reporter-json-export", str(report))
            subprocess.run(newman_command(urls, client_secrets, *extra), check=True)
            # The stack's free ports read as the make run addresses the collection describes.
            addresses = {
                shop.url(service.name): service.default_url for service in (*SERVICES, *SANDBOXES)
            }
            examples = recorded_examples(json.loads(report.read_text()))
        finally:
            shop.stop()
    text = json.dumps(examples, indent=2, sort_keys=True)
    for stack_url, make_run_url in addresses.items():
        text = text.replace(stack_url, make_run_url)
    EXAMPLES.write_text(text + "\n")
    sys.stdout.write(f"wrote {EXAMPLES.relative_to(ROOT)} ({len(examples)} answers)\n")


def export_postman(target: Path = ROOT / "docs" / "postman") -> None:
    operations: dict[tuple[str, str, str], dict] = {}
    for service, internal in itertools.product(SERVICES, (False, True)):
        schema = json.loads(openapi(service, "openapi-json", internal=internal))
        for path, methods in schema["paths"].items():
            for method, operation in methods.items():
                if method in METHODS:
                    operations[(service.name, method.upper(), path)] = operation
    examples = json.loads(EXAMPLES.read_text()) if EXAMPLES.exists() else {}
    folders, covered, unknown = [], set(), []
    names = [req.name for _, _, requests in FOLDERS for req in requests]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    for name, description, requests in FOLDERS:
        items = []
        for req in requests:
            key = (req.service, req.method, req.path)
            if not req.outside_schema and key not in operations:
                unknown.append(f"{req.name}: {req.method} {req.path} ({req.service})")
            covered.add(key)
            items.append(
                with_example(postman_item(req, operations.get(key)), examples.get(req.name))
            )
        folders.append({"name": name, "description": description, "item": items})
    missing = sorted(
        f"{method} {path} ({service})" for service, method, path in operations.keys() - covered
    )
    if missing or unknown or duplicates:
        raise SystemExit(
            "scripts/postman_requests.py is out of step with the schemas:\n"
            + "".join(f"  no request for {line}\n" for line in missing)
            + "".join(f"  no such operation: {line}\n" for line in unknown)
            + "".join(f"  two requests named {name!r}\n" for name in duplicates)
        )
    collection = {
        "info": {
            "name": "Shop microservices",
            "description": (
                "Every operation of the six services, with example bodies, tests and a saved "
                "answer, in the order a run sends them; any request also works on its own "
                "(docs/postman/README.md). Generated by `make postman` from the OpenAPI schemas "
                "and scripts/postman_requests.py; do not edit by hand."
            ),
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "event": [
            {
                "listen": "prerequest",
                "script": {"type": "text/javascript", "exec": list(COLLECTION_PREREQUEST)},
            }
        ],
        # Defaults for a request sent on its own: the make run addresses and the demo logins (an
        # environment's values win over these); `run` is set by the first request that needs it.
        "variable": [
            {"key": "run", "value": ""},
            *({"key": key, "value": value} for key, value in service_urls().items()),
            *({"key": key, "value": value} for key, value in demo_logins().items()),
        ],
        "item": folders,
    }
    environment = {
        "name": "Shop on this machine (make run)",
        "values": [
            *(
                {"key": key, "value": value, "enabled": True}
                for key, value in service_urls().items()
            ),
            *(
                {"key": key, "value": value, "enabled": True}
                for key, value in demo_logins().items()
            ),
            # make run's .env has them (<NAME>_CLIENT_SECRET); `make newman` passes them in.
            *(
                {"key": f"{name}_client_secret", "value": "", "type": "secret", "enabled": True}
                for name in ("order", "payment", "product")
            ),
        ],
    }
    target.mkdir(parents=True, exist_ok=True)
    (target / "shop.postman_collection.json").write_text(json.dumps(collection, indent=2) + "\n")
    (target / "shop.postman_environment.json").write_text(json.dumps(environment, indent=2) + "\n")
    count = sum(len(folder["item"]) for folder in folders)
    sys.stdout.write(f"wrote {target} ({count} requests in {len(folders)} folders)\n")


def service_urls() -> dict[str, str]:
    """``<service>_url``: each service's address under `make run`."""
    return {f"{service.name}_url": service.default_url for service in SERVICES}


def demo_logins() -> dict[str, str]:
    """The demo accounts' emails and passwords (shop_common.demo)."""
    logins = {}
    for email, password, role, _ in DEMO_USERS:
        logins[f"{role.lower()}_email"] = email
        logins[f"{role.lower()}_password"] = password
    return logins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["schema", "postman", "postman-examples"])
    args = parser.parse_args()
    if args.what == "schema":
        export_schemas()
    elif args.what == "postman-examples":
        # The run records the collection as it is now: written first, then again with its answers.
        export_postman()
        record_examples()
        export_postman()
    else:
        export_postman()


if __name__ == "__main__":
    main()
