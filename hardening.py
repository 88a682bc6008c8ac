"""Request limits and response headers of the Flask server under Dash (glue, no business logic).

* Bodies: at most ``MAX_REQUEST_BYTES`` on every route (Flask answers 413); the JSON API has its
  own, tighter limit per route.
* Dash's callback endpoint gets a structurally valid body or a 400: Dash itself answers a JSON
  list or a body without ``inputs`` with a 500 and logs a traceback.
* Every response: ``nosniff`` (a JSON error that echoes text is never sniffed as HTML) and no
  framing by other sites (click-jacking of the holdings form).
"""

from __future__ import annotations

from flask import Flask, Response, request

# A 30 s refresh at 200 assets posts well under 100 KB of callback state; 2 MiB leaves headroom
# and still bounds what one request can make the server parse.
MAX_REQUEST_BYTES = 2 * 1024 * 1024
DASH_CALLBACK_PATH = "/_dash-update-component"
_CALLBACK_LISTS = ("inputs", "state")


def _bad_callback_body(body: object) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return True
    # "outputs" is a list for a multi-output callback and one object for a single output.
    if not isinstance(body.get("outputs"), (list, dict)):
        return True
    return any(not isinstance(body.get(key, []), list) for key in _CALLBACK_LISTS)


def install(server: Flask) -> None:
    """Apply the body limit, the callback-body check and the security headers to server."""
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @server.before_request
    def _check_callback_body():
        if request.path != DASH_CALLBACK_PATH or request.method != "POST":
            return None
        if _bad_callback_body(request.get_json(silent=True)):
            return Response("malformed callback request\n", 400, mimetype="text/plain")
        return None

    @server.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
