from typing import Any

from django.core.management.base import BaseCommand

from accounts import services
from accounts.models import Role, User

# Logins for trying the shop locally (`make run` prints them). Never loaded in production.
DEMO_USERS = (
    ("admin@shop.test", "admin-demo-pass-1", Role.ADMIN, "admin"),
    ("staff@shop.test", "staff-demo-pass-1", Role.STAFF, "staff"),
    ("customer@shop.test", "customer-demo-pass-1", Role.CUSTOMER, "customer"),
)


class Command(BaseCommand):
    help = "Creates the demo accounts (admin, staff, customer) if they are missing."

    def handle(self, *args: Any, **options: Any) -> None:
        for email, password, role, username in DEMO_USERS:
            if not User.objects.filter(email=email).exists():
                services.create_user(
                    email=email, password=password, roles=[role], username=username
                )
                self.stdout.write(f"demo user {email} ({role})")
