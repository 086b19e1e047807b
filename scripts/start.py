#!/usr/bin/env python
"""`make run`'s last step: every process of the Procfile under honcho, with `.env`'s variables and
the exported ones over them (shop_common.dotenv). honcho would load `.env` itself and let it win
over the environment, so it is given no env file of its own.

honcho relays every line its processes print (a pipe per process, read, passed between two of its
own processes, written again). The services' log lines do not take that way: when this terminal
is a terminal or a pipe, ``LOG_STREAM`` names it (as /proc/<honcho's pid>/fd/1, honcho being this
process after exec) and each service writes its lines there itself (shop_common.logs.ConsoleHandler).
Output to a regular file keeps the relay: a second writer at the file's end and honcho writing at
its own offset would overwrite each other's lines.
"""

import argparse
import os
import shutil
import stat
import sys
from pathlib import Path

from shop_common.dotenv import with_dotenv

ROOT = Path(__file__).resolve().parent.parent


def terminal_stream() -> str:
    """A path this process's stdout can be opened again by, or "" to leave the lines to honcho."""
    try:
        mode = os.fstat(sys.stdout.fileno()).st_mode
    except (OSError, ValueError):
        return ""
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        return ""
    path = f"/proc/{os.getpid()}/fd/{sys.stdout.fileno()}"
    return path if os.path.exists(path) else ""


def main() -> None:
    parser = argparse.ArgumentParser(description="Every process of the Procfile under honcho.")
    # make bench passes a copy that starts the services under the server it compares.
    parser.add_argument("--procfile", default=str(ROOT / "Procfile"))
    args = parser.parse_args()
    env = with_dotenv(ROOT)
    env.setdefault("LOG_STREAM", terminal_stream())
    honcho = shutil.which("honcho", path=env.get("PATH")) or str(
        Path(sys.executable).with_name("honcho")
    )
    os.chdir(ROOT)
    os.execve(honcho, [honcho, "start", "-f", args.procfile, "--env", os.devnull], env)  # noqa: S606


if __name__ == "__main__":
    main()
