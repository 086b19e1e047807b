-- MySQL runs this once, on an empty data volume (docker-compose.yml): one schema per service,
-- utf8mb4 like the ones `manage.py prepare_service` creates. tests/test_compose.py checks that it
-- names exactly the schemas in common/shop_common/topology.py.
CREATE DATABASE IF NOT EXISTS `ecommerce_users` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS `ecommerce_products` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS `ecommerce_carts` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS `ecommerce_orders` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS `ecommerce_payments` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS `ecommerce_integration` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
