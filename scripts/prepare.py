#!/usr/bin/env python
"""Gets every service's database ready (create a missing MySQL schema, migrate, demo data), all
services at once. `make run` calls it before starting them."""

import argparse
import sys
from pathlib import Path

from shop_common.dotenv import with_dotenv
from shop_common.processes import prepare_databases
from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-data", action="store_true")
    args = parser.parse_args()
    env = with_dotenv(ROOT)
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
