"""The roles the user service gives people, as every service reads them from a token's validation
(docs/auth.md, "Accounts and roles"). Plain data: scripts import it without Django."""

ADMIN = "ADMIN"
STAFF = "STAFF"
CUSTOMER = "CUSTOMER"
BUILT_IN = (ADMIN, STAFF, CUSTOMER)
