#!/usr/bin/env python
"""A container's health check (docker-compose.yml): exit 0 when the service in this container
answers GET /health/ with 200 on its port, 1 otherwise.

    python scripts/healthcheck.py user
"""

import sys
import urllib.request

from shop_common.topology import SERVICES_BY_NAME


def main() -> int:
    port = SERVICES_BY_NAME[sys.argv[1]].port
    try:
        # 127.0.0.1 is in the compose file's ALLOWED_HOSTS; /health/ is never redirected to https.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=3) as answer:
            return 0 if answer.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
