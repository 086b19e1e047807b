#!/usr/bin/env python
"""`make newman`: runs docs/postman/'s collection with newman against the running shop (`make run`):
the service URLs and the client secrets of the internal folder come from the environment and `.env`,
as `make run` gave them to the services.

    python scripts/newman.py [newman options...]   # e.g. --folder "Checkout journey"

The end-to-end suite runs the same command against its own stack (tests/e2e/test_clients.py).
"""

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from shop_common.dotenv import with_dotenv
from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
NEWMAN = ROOT / ".venv" / "node" / "node_modules" / ".bin" / "newman"
COLLECTION = ROOT / "docs" / "postman" / "shop.postman_collection.json"
ENVIRONMENT = ROOT / "docs" / "postman" / "shop.postman_environment.json"
# The internal folder's callers (docs/auth.md, "Service identities").
CALLERS = ("order", "payment", "product")


def newman_command(
    urls: Mapping[str, str], client_secrets: Mapping[str, str], *extra: str
) -> list[str]:
    """``urls``: service name -> base URL; ``client_secrets``: service name -> its client secret."""
    overrides = [f"{name}_url={url.rstrip('/')}" for name, url in urls.items()]
    overrides += [f"{name}_client_secret={client_secrets[name]}" for name in CALLERS]
    return [
        str(NEWMAN),
        "run",
        str(COLLECTION),
        "--environment",
        str(ENVIRONMENT),
        *(argument for value in overrides for argument in ("--env-var", value)),
        "--color",
        "off",
        *extra,
    ]


def main() -> int:
    if not NEWMAN.exists():
        sys.stderr.write("newman is not installed: run scripts/install-newman.sh\n")
        return 1
    env = with_dotenv(ROOT)
    urls = {
        service.name: env.get(service.url_variable, service.default_url) for service in SERVICES
    }
    client_secrets = {
        service.name: env.get(service.client_secret_variable, "")
        for service in SERVICES
        if service.name in CALLERS
    }
    missing = [name for name, secret in client_secrets.items() if not secret]
    if missing:
        sys.stderr.write(f"no client secret for {', '.join(missing)} in the environment or .env\n")
        return 1
    return subprocess.run(
        newman_command(urls, client_secrets, *sys.argv[1:]), check=False
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
