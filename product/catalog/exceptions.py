from rest_framework import status

from shop_common.errors import ConflictError, ResourceNotFoundException, ServiceError


class ProductNotPresentException(ResourceNotFoundException):
    """No product with this id (or not one the caller may see: inactive products are staff-only)."""

    def __init__(self, product_id: object = None) -> None:
        super().__init__("product", product_id)


class ProductsNotForSale(ResourceNotFoundException):
    """Lines of a reservation whose products are unknown or inactive."""

    def __init__(self, product_ids: list[int]) -> None:
        super().__init__(
            "product",
            details={"product_ids": product_ids},
            message="Some products do not exist or are not for sale.",
        )


class CategoryNotFound(ResourceNotFoundException):
    def __init__(self, category_id: object = None) -> None:
        super().__init__("category", category_id)


class ReservationNotFound(ResourceNotFoundException):
    def __init__(self, order_ref: str) -> None:
        super().__init__("reservation", order_ref)


class SkuTaken(ConflictError):
    default_code = "sku_taken"
    default_detail = "Another product has this SKU."


class CategoryNameTaken(ConflictError):
    default_code = "category_name_taken"
    default_detail = "Another category has this name or slug."


class CategoryInUse(ConflictError):
    default_code = "category_in_use"
    default_detail = "The category still has products or subcategories."


class StockBelowReserved(ConflictError):
    default_code = "stock_below_reserved"
    default_detail = "Stock on hand cannot go below what is reserved for placed orders."


class ReservationClosed(ConflictError):
    default_code = "reservation_closed"
    default_detail = "The reservation is already committed or released."


class ReservationMismatch(ServiceError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "reservation_mismatch"
    default_detail = "This order reference was reserved with other lines."
