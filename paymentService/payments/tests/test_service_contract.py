"""What every service promises (health, schema, error shape), checked against the payment service."""

from shop_common.testing.service_contract import ServiceContract


class TestServiceContract(ServiceContract):
    pass
