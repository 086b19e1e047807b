"""Who is on the other end of the socket: the address throttles count by.

The client address is the socket peer (``REMOTE_ADDR``) unless ``TRUSTED_PROXIES`` says how many
proxies in front of the service append to ``X-Forwarded-For``. Only those hops are believed: with
one trusted proxy, the address is the last entry of the header (the one that proxy wrote), never an
earlier one a client made up. A client that sends the header itself to a service with no trusted
proxy changes nothing. See docs/auth.md ("Brute force").
"""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR") or "unknown"
    trusted = settings.TRUSTED_PROXIES
    if trusted <= 0:
        return peer
    forwarded = [
        hop.strip()
        for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if hop.strip()
    ]
    if not forwarded:
        return peer
    # Each trusted proxy appended the address it saw; the client is the one the outermost wrote.
    return forwarded[-min(trusted, len(forwarded))]
