"""The contract every service checks against itself, run here against the library's test project."""

from shop_common.testing.service_contract import ServiceContract


class TestServiceContract(ServiceContract):
    pass
