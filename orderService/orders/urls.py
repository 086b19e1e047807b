from django.urls import path

from orders import apis

# Served at / and, for the first release's clients, under /api/ (config/urls.py).
urlpatterns = [
    path("orders/", apis.PlaceOrderApi.as_view()),
    path("orders/history/", apis.OrderHistoryApi.as_view()),
    path("orders/<id:order_id>/", apis.OrderDetailApi.as_view()),
    path("orders/<id:order_id>/track/", apis.TrackOrderApi.as_view()),
    path("orders/<id:order_id>/cancel/", apis.CancelOrderApi.as_view()),
    path("orders/<id:order_id>/confirm/", apis.ConfirmOrderApi.as_view()),
    path("orders/<id:order_id>/status/", apis.OrderStatusApi.as_view()),
]

internal_urlpatterns = [
    path("internal/orders/<id:order_id>/", apis.InternalOrderApi.as_view()),
    path("internal/orders/<id:order_id>/payment-succeeded/", apis.PaymentSucceededApi.as_view()),
    path("internal/orders/<id:order_id>/payment-failed/", apis.PaymentFailedApi.as_view()),
    path("internal/orders/<id:order_id>/refunded/", apis.OrderRefundedApi.as_view()),
]
