#!/usr/bin/env python
"""`make run`'s last step: every process of the Procfile under honcho, with `.env`'s variables and
the exported ones over them (shop_common.dotenv). honcho would load `.env` itself and let it win
over the environment, so it is given no env file of its own.
"""

import os
import shutil
import sys
from pathlib import Path

from shop_common.dotenv import with_dotenv

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    env = with_dotenv(ROOT)
    honcho = shutil.which("honcho", path=env.get("PATH")) or str(
        Path(sys.executable).with_name("honcho")
    )
    os.chdir(ROOT)
    os.execve(honcho, [honcho, "start", "-f", "Procfile", "--env", os.devnull], env)  # noqa: S606


if __name__ == "__main__":
    main()
