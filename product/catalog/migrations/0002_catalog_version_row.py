from django.db import migrations


def create_version_row(apps, schema_editor):
    apps.get_model("catalog", "CatalogVersion").objects.get_or_create(pk=1, defaults={"value": 0})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(create_version_row, migrations.RunPython.noop)]
