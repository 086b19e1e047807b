"""The test suite's settings: the real ones, with a throwaway secret when none is set."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-key-for-the-test-suite-only")

from config.settings import *  # noqa: F403
