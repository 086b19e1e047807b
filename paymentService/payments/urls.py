from django.urls import path

from payments import apis

urlpatterns = [
    path("service/", apis.InitiatePaymentApi.as_view()),
    path("internal/payments/", apis.StartOrderPaymentApi.as_view()),
    path("webhook/stripe/", apis.StripeWebhookApi.as_view()),
    path("webhook/razorpay/", apis.RazorpayWebhookApi.as_view()),
    path("payments/", apis.PaymentListApi.as_view()),
    path("payments/<id:payment_id>/", apis.PaymentDetailApi.as_view()),
    path("payments/<id:payment_id>/refund/", apis.RefundPaymentApi.as_view()),
    path("payments/success/", apis.success_page, name="payment-success"),
    path("payments/cancel/", apis.cancel_page, name="payment-cancel"),
]

# The first release served initiation and the webhook under /payment/.
legacy_urlpatterns = [
    path("payment/service/", apis.InitiatePaymentApi.as_view()),
    path("payment/webhook/stripe/", apis.StripeWebhookApi.as_view()),
]
