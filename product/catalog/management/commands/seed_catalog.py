from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.text import slugify

from catalog import services
from catalog.models import Category, Product

# (category, description, [(title, price)]); SKUs and stock are derived, so every run gives the same catalog.
CATALOG = (
    (
        "Books",
        "Paper and ink",
        [
            ("The Pragmatic Programmer", "39.95"),
            ("Clean Architecture", "34.99"),
            ("Designing Data-Intensive Applications", "49.90"),
            ("Refactoring", "44.50"),
            ("Domain-Driven Design", "59.00"),
            ("The Mythical Man-Month", "29.95"),
            ("Working Effectively with Legacy Code", "52.10"),
            ("Structure and Interpretation of Computer Programs", "55.00"),
            ("Release It!", "41.20"),
            ("Accelerate", "24.99"),
        ],
    ),
    (
        "Coffee",
        "Beans and tools",
        [
            ("Ethiopia Yirgacheffe 250 g", "12.50"),
            ("Colombia Huila 250 g", "11.90"),
            ("Espresso Blend 1 kg", "32.00"),
            ("Decaf Swiss Water 250 g", "13.40"),
            ("Hand Grinder", "89.00"),
            ("Pour-over Dripper", "24.00"),
            ("Paper Filters x100", "6.99"),
            ("Gooseneck Kettle", "64.90"),
            ("Milk Jug 600 ml", "18.75"),
            ("Scale 0.1 g", "39.00"),
        ],
    ),
    (
        "Desk",
        "Things for a desk",
        [
            ("Mechanical Keyboard", "129.00"),
            ("Wrist Rest", "19.90"),
            ("Monitor Arm", "99.50"),
            ("Desk Mat", "25.00"),
            ("USB-C Hub", "45.99"),
            ("Cable Ties x20", "4.99"),
            ("LED Desk Lamp", "54.00"),
            ("Laptop Stand", "39.90"),
            ("Notebook A5 Dotted", "14.50"),
            ("Fountain Pen", "32.00"),
        ],
    ),
    (
        "Outdoors",
        "For going out",
        [
            ("Water Bottle 750 ml", "21.00"),
            ("Rain Jacket", "119.00"),
            ("Trail Socks", "15.90"),
            ("Daypack 20 l", "79.00"),
            ("Headlamp", "34.95"),
            ("Trekking Poles", "69.00"),
            ("First Aid Kit", "27.50"),
            ("Sun Hat", "23.00"),
            ("Thermos 500 ml", "29.90"),
            ("Map Case", "12.00"),
        ],
    ),
    (
        "Kitchen",
        "Cooking at home",
        [
            ("Chef's Knife 20 cm", "79.90"),
            ("Cutting Board", "34.00"),
            ("Cast Iron Pan 26 cm", "49.95"),
            ("Wooden Spoons x3", "9.99"),
            ("Spice Rack", "28.00"),
            ("Measuring Cups", "12.49"),
            ("Dutch Oven", "149.00"),
            ("Salad Spinner", "22.50"),
            ("Peeler", "7.90"),
            ("Apron", "18.00"),
        ],
    ),
)


class Command(BaseCommand):
    help = "Creates the demo catalog (5 categories, 50 products with stock) where it is missing. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        created = 0
        for category_index, (name, description, products) in enumerate(CATALOG, start=1):
            category = Category.objects.filter(
                slug=slugify(name)
            ).first() or services.save_category(name=name, description=description)
            for product_index, (title, price) in enumerate(products, start=1):
                sku = f"DEMO-{category_index:02d}{product_index:02d}"
                if Product.objects.filter(sku=sku).exists():
                    continue
                services.save_product(
                    title=title,
                    sku=sku,
                    description=f"{title}, from the {name.lower()} shelf.",
                    category=category,
                    price=Decimal(price),
                    currency="USD",
                    stock_on_hand=(category_index * 7 + product_index * 3) % 40 + 5,
                )
                created += 1
        self.stdout.write(f"demo catalog: {created} product(s) created")
