"""Each service's WSGI application (``config/wsgi.py``): Django's handler with two changes that
every request pays for otherwise (docs/scaling.md, "The edge").

- The route the edge found (shop_common.edge) is the route: Django does not resolve the path again
  before calling the view.
- A response whose body is already in memory goes back as a list of one bytes object, so the server
  writes it at once with its Content-Length; Django's response object itself would be iterated
  chunk by chunk and sent chunked.
- The request body a view did not read (a 401 or 403 answered before it) is read before the answer
  goes back: the server closes a connection whose request body was left unread, and a client that
  had already sent its next request on it got no answer at all.
"""

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch


class ShopWSGIHandler(WSGIHandler):
    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        match = getattr(request, "resolver_match", None)
        if match is not None:
            return match
        return super().resolve_request(request)

    def __call__(self, environ: dict, start_response) -> object:
        response = super().__call__(environ, start_response)
        if isinstance(response, HttpResponse):
            body = response.content
            # What the server would do after sending it: request_finished (database connections
            # given back) fires here instead, before any wait for the rest of the body.
            response.close()
            read_rest_of_body(environ)
            return [body]
        read_rest_of_body(environ)
        return response


# Bodies up to this size are read to the end when the view did not: the API's JSON bodies. A
# larger unread one (a refused upload) costs its connection instead: granian has no timeout for a
# body, so reading one that trickles in would hold the worker's thread as long as it trickles.
DRAIN_MAX_BYTES = 64 * 1024


def read_rest_of_body(environ: dict) -> None:
    """What is left of a small request body (``DRAIN_MAX_BYTES``)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if 0 < length <= min(DRAIN_MAX_BYTES, settings.MAX_REQUEST_BODY_BYTES):
        environ["wsgi.input"].read()


def get_wsgi_application() -> ShopWSGIHandler:
    django.setup(set_prefix=False)
    return ShopWSGIHandler()
