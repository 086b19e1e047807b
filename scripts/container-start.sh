#!/bin/sh
# Container entry point: prepare the service's database (create schema, migrate), then serve it.
# Usage: scripts/container-start.sh <service>   (user, product, cart, order, payment, integration)
set -eu
service="$1"
folder="$(python -c "from shop_common.topology import SERVICES_BY_NAME as s; print(s['$service'].folder)")"
(cd "$folder" && python manage.py prepare_service)
exec python scripts/serve.py "$service" --host "${BIND_HOST:-0.0.0.0}"
