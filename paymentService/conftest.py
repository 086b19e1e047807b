pytest_plugins = ["shop_common.testing.fixtures"]
