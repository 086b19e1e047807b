#!/usr/bin/env python
"""Runs one service's management command every N seconds, for `make run` (Procfile):

    python scripts/periodic.py --every 60 product release_expired_reservations

Production runs the same commands from its scheduler (cron, a Kubernetes CronJob...).
"""

import argparse
import signal
import subprocess
import sys
import threading
from pathlib import Path

from shop_common.topology import SERVICES_BY_NAME

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=60.0, help="seconds between runs")
    parser.add_argument("service", choices=sorted(SERVICES_BY_NAME))
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    folder = ROOT / SERVICES_BY_NAME[args.service].folder
    while not stopping.wait(args.every):
        subprocess.run([sys.executable, "manage.py", *args.command], cwd=folder, check=False)


if __name__ == "__main__":
    main()
