"""What lost webhooks would have said: the providers asked about checkouts still open and refunds
never confirmed, and their answers applied through the webhooks' once-only path."""

import logging

from django.utils import timezone

from payments.exceptions import RefundRefusedByProvider
from payments.gateways import get_gateway
from payments.gateways.interface import GatewayUnavailable, Outcome, ProviderEvent
from payments.models import Payment, PaymentStatus, Refund, RefundStatus
from payments.services.refunds import refund_automatically, send_refund
from payments.services.webhooks import apply_event
from shop_common.errors import DependencyUnavailable

logger = logging.getLogger("shop.payments")


def reconcile_open_payments(*, older_than_minutes: int) -> list[str]:
    """Asks the provider about checkouts still open after a while and applies what a lost webhook
    would have (the same code path and once-only rule as the webhook). Payments that need a refund
    and have none get one; refunds the provider never answered are sent again (same key); refunds
    it took whose webhook never came are asked about and settled."""
    cutoff = timezone.now() - timezone.timedelta(minutes=older_than_minutes)
    outcomes = []
    for payment in Payment.objects.filter(status=PaymentStatus.NEEDS_REFUND, refunds=None):
        refund = refund_automatically(payment_id=payment.id)
        outcomes.append(f"{payment.id}:{'refund_sent' if refund else 'refund_not_sent'}")
    for refund in Refund.objects.filter(status=RefundStatus.REQUESTED, updated_at__lte=cutoff):
        try:
            send_refund(refund, refund.payment)
            outcomes.append(f"{refund.payment_id}:refund_resent")
        except (DependencyUnavailable, RefundRefusedByProvider):
            outcomes.append(f"{refund.payment_id}:refund_not_sent")
    for refund in Refund.objects.filter(
        status=RefundStatus.PENDING, updated_at__lte=cutoff
    ).exclude(provider_refund_id=""):
        outcomes.append(f"{refund.payment_id}:{_reconcile_refund(refund)}")
    for payment in Payment.objects.filter(
        status=PaymentStatus.PENDING, updated_at__lte=cutoff
    ).exclude(provider_reference=""):
        try:
            event = get_gateway(payment.gateway).fetch_checkout(payment.provider_reference)
        except GatewayUnavailable:
            logger.warning(
                "Reconciliation could not reach %s for payment %s", payment.gateway, payment.id
            )
            continue
        if event.outcome not in (Outcome.PENDING, Outcome.IGNORED):
            outcomes.append(
                f"{payment.id}:{apply_event(gateway_name=payment.gateway, event=event)}"
            )
    return outcomes


def _reconcile_refund(refund: Refund) -> str:
    """A refund the provider took but whose webhook never came: asks the provider, and applies a
    settled answer as the webhook would have (same code path, once per refund and result)."""
    payment = refund.payment
    try:
        update = get_gateway(payment.gateway).fetch_refund(refund.provider_refund_id)
    except GatewayUnavailable:
        logger.warning(
            "Reconciliation could not reach %s for refund %s", payment.gateway, refund.id
        )
        return "refund_not_reached"
    if update is None:
        return "refund_pending"
    event = ProviderEvent(
        event_id=f"reconcile:{update.reference}:{'succeeded' if update.succeeded else 'failed'}",
        type="refund.reconciled",
        outcome=Outcome.REFUND,
        reference="",
        payment_id=payment.id,
        amount=update.amount,
        currency=None,
        provider_payment_id=payment.provider_payment_id,
        refunds=(update,),
    )
    return str(apply_event(gateway_name=payment.gateway, event=event))
