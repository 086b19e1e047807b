from django.urls import path

from carts import apis

urlpatterns = [
    path("api/cart/", apis.CartDetailApi.as_view(), name="cart"),
    path("api/cart/add/", apis.AddToCartApi.as_view(), name="cart-add"),
    path("api/cart/update/<id:item_id>/", apis.UpdateCartItemApi.as_view(), name="cart-update"),
    path("api/cart/remove/<id:item_id>/", apis.RemoveCartItemApi.as_view(), name="cart-remove"),
    path("api/cart/clear/", apis.ClearCartApi.as_view(), name="cart-clear"),
    path("api/cart/checkout/", apis.BeginCheckoutApi.as_view(), name="cart-checkout"),
    path(
        "api/cart/checkout/complete/",
        apis.CompleteCheckoutApi.as_view(),
        name="cart-checkout-complete",
    ),
    path(
        "api/cart/checkout/cancel/", apis.CancelCheckoutApi.as_view(), name="cart-checkout-cancel"
    ),
]
