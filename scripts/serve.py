#!/usr/bin/env python
"""Starts one service under the shop's server (granian) on its port: `python scripts/serve.py product`.

The Procfile (`make run`), docker-compose.yml and the Kubernetes manifests start every service
through this, so the command line lives in one place (shop_common.processes.server_command).
"""

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from shop_common.processes import GRANIAN, SERVERS, sandbox_process, server_command, threads_for
from shop_common.topology import SANDBOXES, SERVICES_BY_NAME

ROOT = Path(__file__).resolve().parent.parent


def url_port(variable: str, default: int) -> int:
    """The port other services are told to call this one at: moving a service is then one
    variable (the tests run a whole `make run` on free ports that way)."""
    return urlsplit(os.environ.get(variable, "")).port or default


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "service", choices=sorted([*SERVICES_BY_NAME, *(sandbox.name for sandbox in SANDBOXES)])
    )
    parser.add_argument("--host", default=os.environ.get("BIND_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port",
        type=int,
        help="defaults to the port of the service's URL variable (USER_SERVICE_URL...; for the "
        "sandboxes STRIPE_API_BASE, RAZORPAY_API_BASE), else its port in the "
        "topology",
    )
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default=GRANIAN,
        help="gunicorn: the server the shop ran under before, for make bench's comparison only",
    )
    args = parser.parse_args()
    sandboxes = {sandbox.name: sandbox for sandbox in SANDBOXES}
    if args.service in sandboxes:
        sandbox = sandboxes[args.service]
        provider = sandbox.name.removesuffix("-sandbox").upper()
        # Where the payment service's SDK is told to reach it.
        port = args.port or url_port(f"{provider}_API_BASE", sandbox.port)
        # A development tool started by make run: its /_sandbox/ helper routes answer.
        os.environ.setdefault(f"{provider}_SANDBOX_DEBUG_ROUTES", "True")
        process = sandbox_process(sandbox, ROOT, port=port, env={}, server=args.server)
        command = process.command(host=args.host)
    else:
        service = SERVICES_BY_NAME[args.service]
        command = server_command(
            ROOT / service.folder,
            port=args.port or url_port(service.url_variable, service.port),
            host=args.host,
            workers=args.workers,
            threads=threads_for(service.name),
            server=args.server,
        )
    os.execv(sys.executable, command)  # noqa: S606 (a fixed argv, no shell)


if __name__ == "__main__":
    main()
