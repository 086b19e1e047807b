"""The test suite's settings: the real ones, with throwaway secrets when none are set."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-key-for-the-test-suite-only")
os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_test_suite_only")
# The suite talks to the offline sandbox (conftest.py), whatever .env says.
os.environ.setdefault("STRIPE_SANDBOX_ALLOWED", "True")
os.environ.setdefault("RAZORPAY_WEBHOOK_SECRET", "razorpay_test_suite_only")
os.environ.setdefault("RAZORPAY_SANDBOX_ALLOWED", "True")

from config.settings import *  # noqa: F403
