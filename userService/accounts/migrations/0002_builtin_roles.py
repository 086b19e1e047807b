from django.db import migrations

BUILT_IN_ROLES = {
    "ADMIN": "Everything: users, roles, catalog, orders",
    "STAFF": "Catalog and order staff",
    "CUSTOMER": "Shops: carts, orders and payments of their own",
}


def create_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for name, description in BUILT_IN_ROLES.items():
        Role.objects.get_or_create(name=name, defaults={"description": description})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
