"""The books of the shop, read from each service's database, and whether they balance: used by
`make soak` (bench/soak.py) and the fault tests (tests/e2e/test_faults.py).

Per product: stock at the start = on hand + committed (a reservation is part of on hand until it
is committed), and reserved = the lines of the open (RESERVED) reservations. Between the services:
every committed reservation is a PAID-or-later order with the same lines and exactly one succeeded
payment, every open reservation a PENDING order, and every PAID-or-later order committed.
"""

import json

from shop_common.testing.stack import Stack

PRODUCT_BOOKS = """
import json
from django.db.models import Sum
from catalog.models import Product, Reservation, ReservationLine
lines = {}
for r in Reservation.objects.prefetch_related("lines"):
    lines[r.order_ref] = {"status": r.status, "lines": sorted((l.product_id, l.quantity) for l in r.lines.all())}
products = {p.id: {"on_hand": p.stock_on_hand, "reserved": p.stock_reserved} for p in Product.objects.all()}
print(json.dumps({"reservations": lines, "products": products}))
"""
ORDER_BOOKS = """
import json
from orders.models import Order
print(json.dumps({o.order_number: {"id": o.id, "status": o.status, "lines": sorted((l.product_id, l.quantity) for l in o.lines.all())} for o in Order.objects.prefetch_related("lines")}))
"""
PAYMENT_BOOKS = """
import json
from collections import Counter
from payments.models import Payment
print(json.dumps(Counter(str(p.order_id) for p in Payment.objects.filter(status="SUCCEEDED"))))
"""
PAID_OR_LATER = {"PAID", "CONFIRMED", "SHIPPED", "DELIVERED"}


def books(stack: Stack, service: str, code: str) -> dict:
    return json.loads(stack.manage(service, "shell", "-c", code).strip().splitlines()[-1])


def ledger(stack: Stack, initial_stock: dict[int, int]) -> list[str]:
    """What does not balance (empty: the books are right), for the products in ``initial_stock``."""
    stock = books(stack, "product", PRODUCT_BOOKS)
    orders = books(stack, "order", ORDER_BOOKS)
    succeeded = books(stack, "payment", PAYMENT_BOOKS)
    problems = []
    committed: dict[int, int] = dict.fromkeys(initial_stock, 0)
    open_units: dict[int, int] = dict.fromkeys(initial_stock, 0)
    for ref, reservation in stock["reservations"].items():
        order = orders.get(ref)
        lines = [tuple(line) for line in reservation["lines"]]
        if reservation["status"] == "COMMITTED":
            for pid, quantity in lines:
                committed[pid] = committed.get(pid, 0) + quantity
            if order is None or order["status"] not in PAID_OR_LATER:
                problems.append(
                    f"committed reservation {ref} without a paid order ({order and order['status']})"
                )
            elif [tuple(line) for line in order["lines"]] != lines:
                problems.append(f"committed reservation {ref} differs from its order's lines")
            elif succeeded.get(str(order["id"])) != 1:
                problems.append(
                    f"order {ref} is paid with {succeeded.get(str(order['id']), 0)} succeeded payments"
                )
        elif reservation["status"] == "RESERVED":
            for pid, quantity in lines:
                open_units[pid] = open_units.get(pid, 0) + quantity
            if order is None or order["status"] != "PENDING":
                problems.append(
                    f"open reservation {ref} without a PENDING order ({order and order['status']})"
                )
    for ref, order in orders.items():
        if (
            order["status"] in PAID_OR_LATER
            and stock["reservations"].get(ref, {}).get("status") != "COMMITTED"
        ):
            problems.append(f"paid order {ref} without committed stock")
    for pid, initial in initial_stock.items():
        facts = stock["products"][str(pid)]
        if facts["on_hand"] + committed[pid] != initial:
            problems.append(
                f"product {pid}: on hand {facts['on_hand']} + committed {committed[pid]} != {initial}"
            )
        if facts["reserved"] != open_units[pid]:
            problems.append(
                f"product {pid}: reserved {facts['reserved']} but open reservations hold {open_units[pid]}"
            )
    return problems
