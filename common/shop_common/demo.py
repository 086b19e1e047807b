"""The demo accounts `make run` loads and prints, and the end-to-end tests and benchmarks log in
with (docs/auth.md, "Demo accounts"). Plain data: scripts import it without Django."""

from typing import NamedTuple

from shop_common.roles import ADMIN, CUSTOMER, STAFF


class DemoUser(NamedTuple):
    email: str
    password: str
    role: str
    username: str


DEMO_USERS = (
    DemoUser("admin@shop.test", "admin-demo-pass-1", ADMIN, "admin"),
    DemoUser("staff@shop.test", "staff-demo-pass-1", STAFF, "staff"),
    DemoUser("customer@shop.test", "customer-demo-pass-1", CUSTOMER, "customer"),
)

# ``DEMO_LOGINS["STAFF"]``: the (email, password) of the demo user with that role.
DEMO_LOGINS = {user.role: (user.email, user.password) for user in DEMO_USERS}
