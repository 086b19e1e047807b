#!/usr/bin/env python
"""Starts one service under gunicorn on its port: `python scripts/serve.py product`.

The Procfile (`make run`) and docker-compose.yml start every service through this, so the gunicorn
command line lives in one place (shop_common.processes.gunicorn_command).
"""

import argparse
import os
import sys
from pathlib import Path

from shop_common.processes import gunicorn_command, stripe_sandbox_process
from shop_common.topology import SERVICES_BY_NAME, STRIPE_SANDBOX

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service", choices=sorted([*SERVICES_BY_NAME, STRIPE_SANDBOX.name]))
    parser.add_argument("--host", default=os.environ.get("BIND_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, help="defaults to the service's port in the topology")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    args = parser.parse_args()
    if args.service == STRIPE_SANDBOX.name:
        sandbox = stripe_sandbox_process(ROOT, port=args.port or STRIPE_SANDBOX.port, env={})
        command = sandbox.command(host=args.host)
    else:
        service = SERVICES_BY_NAME[args.service]
        command = gunicorn_command(
            ROOT / service.folder,
            port=args.port or service.port,
            host=args.host,
            workers=args.workers,
        )
    os.execv(sys.executable, command)  # noqa: S606 (a fixed argv, no shell)


if __name__ == "__main__":
    main()
