#!/usr/bin/env python
"""Writes the API documents that live in docs/ from the services' own OpenAPI schemas.

    python scripts/export_api_docs.py schema    # docs/api/<service>.yaml (`make schema`)
    python scripts/export_api_docs.py postman   # docs/postman/shop.postman_collection.json (`make postman`)

Both are generated, never edited by hand: change the views, then run `make schema postman`.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from shop_common.topology import SERVICES, Service

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("get", "post", "put", "patch", "delete")


def openapi(service: Service, fmt: str) -> str:
    # Development mode: the schema needs no real secrets, and none should be required to build it.
    # SQLite always: integer bounds in the schema come from the database backend's field ranges.
    env = {**os.environ, "DEBUG": "True", "DB_ENGINE": "sqlite"}
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


def example(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if depth > 4:
        return None
    if "example" in schema:
        return schema["example"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: example(prop, components, depth + 1)
            for name, prop in schema.get("properties", {}).items()
            if not prop.get("readOnly")
        }
    if kind == "array":
        return [example(schema.get("items", {}), components, depth + 1)]
    return {"integer": 1, "number": 1, "boolean": True}.get(kind, "")


def postman_item(
    service: Service, path: str, method: str, operation: dict, components: dict
) -> dict:
    segments = [
        f":{part[1:-1]}" if part.startswith("{") else part for part in path.strip("/").split("/")
    ]
    request: dict[str, Any] = {
        "method": method.upper(),
        "header": [{"key": "Content-Type", "value": "application/json"}],
        "url": {
            "raw": f"{{{{{service.name}_url}}}}/{'/'.join(segments)}/",
            "host": [f"{{{{{service.name}_url}}}}"],
            "path": [*segments, ""],
        },
        "description": operation.get("description", ""),
    }
    if not operation.get("security") or {} in operation.get("security", []):
        request["auth"] = {"type": "noauth"}
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        request["body"] = {
            "mode": "raw",
            "raw": json.dumps(example(body["schema"], components), indent=2),
            "options": {"raw": {"language": "json"}},
        }
    item: dict[str, Any] = {"name": f"{method.upper()} {path}", "request": request}
    if service.name == "user" and path == "/auth/login/" and method == "post":
        # Logging in once fills {{access_token}} for every other request of the collection.
        item["event"] = [
            {
                "listen": "test",
                "script": {
                    "type": "text/javascript",
                    "exec": [
                        "if (pm.response.code === 200) {",
                        "  pm.collectionVariables.set('access_token', pm.response.json().access);",
                        "  pm.collectionVariables.set('refresh_token', pm.response.json().refresh);",
                        "}",
                    ],
                },
            }
        ]
    return item


def export_postman() -> None:
    folders = []
    for service in SERVICES:
        schema = json.loads(openapi(service, "openapi-json"))
        components = schema.get("components", {}).get("schemas", {})
        items = [
            postman_item(service, path, method, operation, components)
            for path, operations in sorted(schema["paths"].items())
            for method, operation in operations.items()
            if method in METHODS
        ]
        folders.append({"name": service.display_name, "item": items})
    collection = {
        "info": {
            "name": "Shop microservices",
            "description": "Generated from the services' OpenAPI schemas by `make postman`.",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{access_token}}"}]},
        "variable": [
            *({"key": f"{service.name}_url", "value": service.default_url} for service in SERVICES),
            {"key": "access_token", "value": ""},
            {"key": "refresh_token", "value": ""},
        ],
        "item": folders,
    }
    target = ROOT / "docs" / "postman" / "shop.postman_collection.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(collection, indent=2) + "\n")
    sys.stdout.write(f"wrote {target.relative_to(ROOT)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["schema", "postman"])
    args = parser.parse_args()
    export_schemas() if args.what == "schema" else export_postman()


if __name__ == "__main__":
    main()
