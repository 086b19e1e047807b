from shop_common.errors import ConflictError, ResourceNotFoundException


class CartItemNotFound(ResourceNotFoundException):
    def __init__(self, item_id: object) -> None:
        super().__init__("cart_item", item_id)


class ProductNotFound(ResourceNotFoundException):
    """Unknown or inactive: either way it cannot go into a cart."""

    def __init__(self, product_id: object) -> None:
        super().__init__("product", product_id)


class InsufficientStock(ConflictError):
    default_code = "insufficient_stock"
    default_detail = "Not enough stock for this quantity."
