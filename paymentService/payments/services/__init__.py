"""Every write of the payment service, by job: ``initiation`` (starting a checkout), ``webhooks``
(applying what a provider says), ``refunds`` (giving money back) and ``reconciliation`` (asking the
providers about what their lost webhooks would have said); ``transitions`` is the one way a payment
or a refund changes status."""
