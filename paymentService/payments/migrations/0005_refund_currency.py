from django.db import migrations, models


def refunds_in_their_payments_currency(apps, schema_editor):
    """Every refund so far was made in its payment's currency (the only one a refund was sent in)."""
    Payment = apps.get_model("payments", "Payment")
    Refund = apps.get_model("payments", "Refund")
    for payment_id, currency in Payment.objects.filter(refunds__isnull=False).values_list(
        "pk", "currency"
    ).distinct():
        Refund.objects.filter(payment_id=payment_id).update(currency=currency)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_refunds"),
    ]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="currency",
            field=models.CharField(default="", max_length=3),
            preserve_default=False,
        ),
        migrations.RunPython(refunds_in_their_payments_currency, migrations.RunPython.noop),
    ]
