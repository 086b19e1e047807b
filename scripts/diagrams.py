#!/usr/bin/env python
"""`make diagrams`: each service's data model drawn from its code (django-extensions'
graph_models) into docs/diagrams/<service>.dot, and .svg when Graphviz's `dot` is installed.

    python scripts/diagrams.py          # write them
    python scripts/diagrams.py --check  # exit 1 when a committed .dot differs from the models

The .dot files are what is compared (Graphviz versions draw the same graph into different SVG).
The system diagram (services and their calls) is Mermaid, in docs/architecture.md.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "diagrams"
APPS = {
    "user": ["accounts"],
    "product": ["catalog"],
    "cart": ["carts"],
    "order": ["orders"],
    "payment": ["payments"],
    "integration": ["checkout"],
}
# Run inside each service's folder: its settings, plus django_extensions for the command.
GENERATE = """
import sys, django
from django.conf import settings
settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "django_extensions"]
django.setup()
from django.core.management import call_command
call_command("graph_models", *sys.argv[2:], dot=True, output=sys.argv[1])
"""


def dot_source(service_name: str, folder: Path, scratch: Path) -> str:
    """The service's model graph as Graphviz source, without the line that dates it."""
    target = scratch / f"{service_name}.dot"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DOTENV_DIR": str(scratch),  # no .env: the models do not depend on it
        "DEBUG": "True",
        "DB_ENGINE": "sqlite",
        "DB_NAME": str(scratch / f"{service_name}.sqlite3"),
        "STRIPE_SANDBOX_ALLOWED": "True",
    }
    subprocess.run(
        [sys.executable, "-c", GENERATE, str(target), *APPS[service_name]],
        cwd=folder,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    lines = target.read_text().splitlines()
    return "\n".join(line for line in lines if not line.strip().startswith("// Created:")) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    with tempfile.TemporaryDirectory() as scratch:
        for service in SERVICES:
            source = dot_source(service.name, ROOT / service.folder, Path(scratch))
            path = OUT / f"{service.name}.dot"
            if args.check:
                # Compared as sets of lines: graph_models lists a model's abstract bases in an
                # order that can change between runs (a set of classes), the graph does not.
                if not path.exists() or sorted(path.read_text().splitlines()) != sorted(
                    source.splitlines()
                ):
                    stale.append(path.relative_to(ROOT))
                continue
            path.write_text(source)
            if shutil.which("dot"):
                subprocess.run(
                    ["dot", "-Tsvg", str(path), "-o", str(path.with_suffix(".svg"))], check=True
                )
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"stale, run `make diagrams`: {', '.join(map(str, stale))}", file=sys.stderr)
        return 1
    if not args.check and not shutil.which("dot"):
        print("Graphviz (dot) is not installed: .dot written, no .svg (make diagrams installs it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
