"""Settings of the integration service: the shared defaults of shop_common.conf, then its own."""

from pathlib import Path

from shop_common.conf import environment, payment_gateways, service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(service_settings(service="integration", base_dir=BASE_DIR, apps=["checkout"]))

# The payment service's own configuration (docker-compose and the k8s ConfigMap give both the same):
# a gateway it does not offer is refused before an order is placed, without asking it.
PAYMENT_GATEWAYS, PAYMENT_GATEWAY = payment_gateways(environment(BASE_DIR))
