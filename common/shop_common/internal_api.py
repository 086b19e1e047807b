"""The base of every ``/internal/`` endpoint: service-to-service calls no customer may make.

Each endpoint names the services it takes calls from (docs/auth.md, "Service identities"):

    class ReserveStockApi(InternalApi):
        callers = ("order",)
"""

from rest_framework.views import APIView

from shop_common.auth import ServiceTokenAuthentication
from shop_common.permissions import IsInternalService


class InternalApi(APIView):
    authentication_classes = [ServiceTokenAuthentication]
    permission_classes = [IsInternalService]
    # The names of the shop services (shop_common.topology) whose tokens this endpoint accepts.
    callers: tuple[str, ...] = ()
