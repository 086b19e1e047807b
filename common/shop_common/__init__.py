"""The shared library of the shop's six services (the eShop "service defaults" idea)."""
