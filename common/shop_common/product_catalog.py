"""What other services know of products: one batch call to the product service's internal lookup."""

from dataclasses import dataclass
from decimal import Decimal

from shop_common.errors import DependencyUnavailable
from shop_common.service_tokens import internal_request


@dataclass(frozen=True)
class CatalogProduct:
    id: int
    title: str
    sku: str
    price: Decimal
    currency: str
    is_active: bool
    available: int
    image_url: str = ""


def fetch_products(ids: list[int] | set[int]) -> dict[int, CatalogProduct]:
    """The current facts of these products, by id, in one call; unknown ids are simply absent."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found: dict[int, CatalogProduct] = {}
    for start in range(0, len(wanted), 100):  # the lookup takes at most 100 ids
        chunk = wanted[start : start + 100]
        response = internal_request(
            "product", "GET", "/internal/products/", params={"ids": ",".join(map(str, chunk))}
        )
        if response.status_code != 200:
            raise DependencyUnavailable(
                "product", reason=f"product lookup answered {response.status_code}"
            )
        for item in response.json()["results"]:
            found[item["id"]] = CatalogProduct(
                id=item["id"],
                title=item["title"],
                sku=item["sku"],
                price=Decimal(item["price"]),
                currency=item["currency"],
                is_active=item["is_active"],
                available=item["available"],
                image_url=item.get("image_url", ""),
            )
    return found
