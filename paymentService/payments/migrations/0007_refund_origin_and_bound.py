import logging

from django.db import migrations, models


def mark_provider_refunds(apps, schema_editor):
    Refund = apps.get_model("payments", "Refund")
    Refund.objects.filter(requested_by__startswith="provider:").update(origin="provider")


def bound_refunded_amounts(apps, schema_editor):
    """Before the constraint: a payment refunded past what was captured (by a provider event this
    version refuses) shows what was captured, and is named for a person to look at."""
    Payment = apps.get_model("payments", "Payment")
    over = Payment.objects.filter(refunded_amount__gt=models.F("captured_amount"))
    for payment in over:
        logging.getLogger("shop.payments").warning(
            "Payment %s: refunded_amount %s is more than captured %s; set to what was captured",
            payment.pk,
            payment.refunded_amount,
            payment.captured_amount,
        )
    over.update(refunded_amount=models.F("captured_amount"))
    Payment.objects.filter(captured_amount__isnull=True).exclude(refunded_amount=0).update(
        refunded_amount=0
    )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0006_order_notices"),
    ]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="origin",
            field=models.CharField(
                choices=[("shop", "Shop"), ("provider", "Provider")],
                db_index=True,
                default="shop",
                max_length=16,
            ),
        ),
        migrations.RunPython(mark_provider_refunds, migrations.RunPython.noop),
        migrations.RunPython(bound_refunded_amounts, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(refunded_amount__lte=models.F("captured_amount"))
                | models.Q(captured_amount__isnull=True, refunded_amount=0),
                name="refunded_within_captured",
            ),
        ),
    ]
