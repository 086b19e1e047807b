import decimal
from typing import Any

from rest_framework.renderers import JSONRenderer as DrfJSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class MoneySafeJSONEncoder(JSONEncoder):
    """DRF's encoder turns a bare ``Decimal`` into a float; money must stay exact, so: a string."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, decimal.Decimal):
            return str(obj)
        return super().default(obj)


class JSONRenderer(DrfJSONRenderer):
    encoder_class = MoneySafeJSONEncoder
