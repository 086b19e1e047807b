from django.urls import path

from checkout import apis

# Served at / and, for the first release's clients, under /api/ (config/urls.py).
urlpatterns = [
    path("cart/add/", apis.AddToCartApi.as_view()),
    path("orders/place/", apis.PlaceOrderApi.as_view()),
    path("payment/initiate/", apis.InitiatePaymentApi.as_view()),
    path("checkout/", apis.CheckoutApi.as_view()),
]
