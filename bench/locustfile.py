"""The soak's shoppers (`make soak`, bench/soak.py): locust users with the mix of a shop's day —
browse 10 : add to cart 2 : view the cart 3 : check out and pay 1 : cancel 0.2 — against the
services whose URLs bench/soak.py passes in the environment.

A 4xx that the scenario can meet (an order already paid when the cancel comes, a cart emptied by a
checkout) is a success here; only a 5xx or a transport error is a failure, and every 5xx is
counted in the file SOAK_RESULT names.
"""

import itertools
import json
import os
import random

from locust import HttpUser, between, events, task

from shop_common.testing.data import ADDRESS

URLS = {
    name: os.environ[f"SOAK_{name.upper()}_URL"]
    for name in ("user", "product", "cart", "order", "integration")
}
PRODUCTS = [int(pid) for pid in os.environ["SOAK_PRODUCTS"].split(",")]
TOKENS = itertools.cycle(os.environ["SOAK_TOKENS"].split(","))
server_errors: list[str] = []


@events.request.add_listener
def _count_server_errors(request_type, name, response, exception, **kwargs) -> None:
    if response is not None and response.status_code >= 500:
        server_errors.append(f"{request_type} {name} {response.status_code} {response.text[:200]}")


@events.quitting.add_listener
def _write_result(environment, **kwargs) -> None:
    with open(os.environ["SOAK_RESULT"], "w") as result:
        json.dump({"server_errors": server_errors}, result)


class Shopper(HttpUser):
    host = URLS["product"]
    wait_time = between(0, 0.05)

    def on_start(self) -> None:
        # The shoppers' accounts are made before the load (bench/soak.py): a login is a password
        # hash, and 24 of them at once would measure the hasher, not the shop.
        self.headers = {"Authorization": f"Bearer {next(TOKENS)}"}

    def send(self, method: str, url: str, name: str, *, accept: tuple[int, ...] = (), **kwargs):
        with self.client.request(
            method, url, name=name, headers=self.headers, catch_response=True, **kwargs
        ) as response:
            if response.status_code < 400 or response.status_code in accept:
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")
            return response

    @task(50)
    def browse(self) -> None:
        page = random.choice(["", "?ordering=price", "?in_stock=true", "?page=2", "?q=soak"])
        self.send("GET", f"{URLS['product']}/products/{page}", "GET /products/")
        self.send(
            "GET", f"{URLS['product']}/products/{random.choice(PRODUCTS)}/", "GET /products/{id}/"
        )

    @task(10)
    def add_to_cart(self) -> None:
        line = {"product_id": random.choice(PRODUCTS), "quantity": 1}
        # 400: the cart's per-line maximum reached after many adds of one product.
        self.send(
            "POST", f"{URLS['integration']}/cart/add/", "POST /cart/add/", json=line, accept=(400,)
        )

    @task(15)
    def view_cart(self) -> None:
        self.send("GET", f"{URLS['cart']}/api/cart/", "GET /api/cart/")

    def place_order(self, path: str, name: str):
        line = {"product_id": random.choice(PRODUCTS), "quantity": 1}
        self.send(
            "POST", f"{URLS['integration']}/cart/add/", "POST /cart/add/", json=line, accept=(400,)
        )
        return self.send(
            "POST", f"{URLS['integration']}{path}", name, json={"shipping_address": ADDRESS}
        )

    @task(5)
    def checkout_and_pay(self) -> None:
        answer = self.place_order("/checkout/", "POST /checkout/")
        if answer.status_code != 201:
            return
        checkout_url = answer.json()["payment"]["checkout_url"]
        with self.client.post(
            f"{checkout_url}/pay", name="pay on the hosted page", catch_response=True
        ) as paid:
            if paid.status_code < 400:
                paid.success()

    @task(1)
    def cancel(self) -> None:
        placed = self.place_order("/orders/place/", "POST /orders/place/")
        if placed.status_code != 201:
            return
        order_id = placed.json()["id"]
        self.send(
            "POST",
            f"{URLS['order']}/orders/{order_id}/cancel/",
            "POST /orders/{id}/cancel/",
            accept=(409,),
        )
