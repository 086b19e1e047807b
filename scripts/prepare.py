#!/usr/bin/env python
"""Gets every service's database ready (create a missing MySQL schema, migrate, demo data), all
services at once. `make run` calls it before starting them."""

import argparse
import compileall
import re
import sys
from pathlib import Path

from shop_common.dotenv import with_dotenv
from shop_common.processes import prepare_databases
from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
# What the services' processes import: compiled here rather than by each of them.
CODE = ["common", *(service.folder for service in SERVICES), "sandboxes"]
NOT_CODE = re.compile(r"/(var|tests|node_modules)/")


def compile_code(root: Path = ROOT) -> None:
    """The shop's own code compiled to bytecode once, before a dozen processes import
    it at once: where PYTHONDONTWRITEBYTECODE is set (many containers, this kind of CI) each of
    them would compile every module again, at every start."""
    for folder in CODE:
        compileall.compile_dir(root / folder, quiet=1, rx=NOT_CODE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-data", action="store_true")
    args = parser.parse_args()
    env = with_dotenv(ROOT)
    compile_code()
    try:
        prepare_databases(
            [(ROOT / service.folder, env) for service in SERVICES],
            demo_data=args.demo_data,
        )
    except RuntimeError as exc:
        sys.exit(str(exc))
    sys.stdout.write(f"Databases ready: {', '.join(service.folder for service in SERVICES)}\n")


if __name__ == "__main__":
    main()
