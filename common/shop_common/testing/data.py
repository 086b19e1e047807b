"""Data the tests, the benchmarks, the soak and the Postman collection all send."""

# A shipping address every order endpoint accepts.
ADDRESS = {
    "street": "1 Main St",
    "city": "Springfield",
    "state": "IL",
    "zip_code": "62701",
    "country": "US",
}
