from typing import Any

from django.core.management.base import BaseCommand

from accounts import services
from accounts.models import User
from shop_common.demo import DEMO_USERS


class Command(BaseCommand):
    help = "Creates the demo accounts (admin, staff, customer) if they are missing. Never in production."

    def handle(self, *args: Any, **options: Any) -> None:
        for email, password, role, username in DEMO_USERS:
            if not User.objects.filter(email=email).exists():
                services.create_user(
                    email=email, password=password, roles=[role], username=username
                )
                self.stdout.write(f"demo user {email} ({role})")
