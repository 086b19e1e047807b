from decimal import Decimal

from django.http import HttpRequest, JsonResponse
from django.urls import path

ITEMS = [
    {
        "id": index,
        "title": f"Product {index}",
        "description": "A thing worth buying, described in one sentence.",
        "sku": f"SKU-{index:05d}",
        "price": str(Decimal("9.99") + index),
        "currency": "USD",
        "quantity": 100,
        "available": 97,
        "category": 1,
        "image_url": f"https://img.example/{index}.jpg",
        "is_active": True,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    for index in range(1, 21)
]


def products(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"count": 20, "next": None, "previous": None, "results": ITEMS})


urlpatterns = [path("products/", products)]
