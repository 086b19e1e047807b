"""Settings of the integration service: the shared defaults of shop_common.conf, then its own."""

from pathlib import Path

from shop_common.conf import service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(service_settings(service="integration", base_dir=BASE_DIR, apps=["checkout"]))
