"""Input shapes more than one service accepts."""

from rest_framework import serializers


class AddressSerializer(serializers.Serializer):
    """A shipping or billing address (the order service stores it; checkout passes it on)."""

    street = serializers.CharField(max_length=200)
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")
    zip_code = serializers.CharField(max_length=20)
    country = serializers.CharField(max_length=60)
