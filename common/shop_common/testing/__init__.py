"""Test helpers for the services' suites: ``pytest_plugins = ["shop_common.testing.fixtures"]``."""
