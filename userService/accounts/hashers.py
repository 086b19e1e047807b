"""How OAuth2 client secrets are stored."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class ClientSecretHasher(PBKDF2PasswordHasher):
    """A salted HMAC-SHA256 of the secret. Client secrets are long random strings (a shop service's
    at least 256 bits), which no number of rounds makes harder to guess; the rounds of a person's
    password hash would cost the user service that much CPU on every client-credentials request."""

    algorithm = "pbkdf2_sha256_client_secret"
    iterations = 1
