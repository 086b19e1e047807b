"""The bounds every service puts on the integers a client sends (docs/architecture.md, "Limits"):
an id or a quantity out of range is a 400 naming the field, never an overflow in the database or
in the service asked next."""

from rest_framework import serializers

# Ids are BIGINT (BigAutoField, BigIntegerField) everywhere.
MAX_ID = 2**63 - 1
# The most one reservation line may hold: the product service's cap, which the cart's and the
# order's own caps stay under, so that they answer a 400 themselves instead of passing a 400 of
# the product service on as a 503.
STOCK_LINE_MAX_QUANTITY = 10_000
# Stock on hand is a PositiveIntegerField (0 to 2^31 - 1 on every database Django supports).
STOCK_MAX = 2**31 - 1


class IdField(serializers.IntegerField):
    """A database id: 1 to 2^63 - 1."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdConverter:
    """``<id:order_id>`` in a URL: at most 18 digits (always under 2^63), so a longer number is no
    route (a 404) instead of an overflow in the database."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
