"""The demo accounts `make run` loads and prints (plain data: scripts read it without Django)."""

DEMO_USERS = (
    # email, password, role, username
    ("admin@shop.test", "admin-demo-pass-1", "ADMIN", "admin"),
    ("staff@shop.test", "staff-demo-pass-1", "STAFF", "staff"),
    ("customer@shop.test", "customer-demo-pass-1", "CUSTOMER", "customer"),
)
