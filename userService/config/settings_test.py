"""The test suite's settings: the real ones, with throwaway secrets when none are set."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-key-for-the-test-suite-only")
os.environ.setdefault("JWT_SIGNING_KEY", "insecure-jwt-key-for-the-test-suite-only-0123456789")
os.environ.setdefault(
    "SERVICE_TOKEN_SIGNING_KEY", "insecure-service-token-key-for-the-test-suite-only-0123"
)

from config.settings import *  # noqa: F403

# Fast, tests only; client secrets keep their own hasher.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "accounts.hashers.ClientSecretHasher",
]
