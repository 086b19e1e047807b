"""A small project that exercises the shared library the way a service does."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "insecure-key-for-the-library-tests-only")

from shop_common.conf import service_settings
from shop_common.topology import Service

BASE_DIR = Path(__file__).resolve().parent

LIBRARY_TESTS = Service("library", "common", 0, "shop_common_tests", "the shared library's tests")

globals().update(service_settings(service=LIBRARY_TESTS, base_dir=BASE_DIR, apps=[]))

ROOT_URLCONF = "tests.urls"
