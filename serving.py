"""Serving glue: a busy port as one line, HTTP 404 for pages that do not exist, compression.

Dash answers every path with its single-page index (HTTP 200) and draws the 404 page in the
browser; a crawler, a monitor or a reverse proxy only sees the status, so an unknown page gets
its 404 here while the body still renders ``pages/not_found_404`` (a link back to the dashboard).
"""

from __future__ import annotations

import errno
import re
import socket
from collections import OrderedDict

import dash
from flask import Flask, Response, request
from flask_compress import Compress

# Dash's own routes and static files: never pages.
_NOT_PAGES = ("/_dash-", "/_reload-hash", "/_favicon", "/assets/", "/api/")


def port_in_use_message(host: str, port: int) -> str | None:
    """One line naming the busy port, or None when ``host:port`` can be bound now.

    The check binds like the server will (SO_REUSEADDR, so a socket in TIME_WAIT after a
    restart is not mistaken for another server) and releases the port at once.
    """
    family, kind, proto, _, address = socket.getaddrinfo(host or None, port,
                                                        type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"port {port} on {host} is already in use (another btcfolio or "
                        f"another server): stop it, or start with --port {port + 1}")
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"<[^/>]+>", template.strip("/"))
    return re.compile("[^/]+".join(re.escape(p) for p in parts) + r"\Z")


def is_known_page(path: str, prefix: str = "/") -> bool:
    """True when ``path`` (under the app's ``requests_pathname_prefix``) is a registered page."""
    if not path.startswith(prefix):
        return False
    rel = path[len(prefix):].strip("/")
    for page in dash.page_registry.values():
        if page["module"].endswith("not_found_404"):
            continue  # its own address is not a page either
        if page["path"].strip("/") == rel:
            return True
        template = page.get("path_template")
        if template and _template_regex(template).match(rel):
            return True
    return False


def install_not_found_status(app: dash.Dash) -> None:
    """Answer HTML requests for unregistered page paths with status 404 (same Dash body)."""
    prefix = app.config.requests_pathname_prefix or "/"

    @app.server.after_request
    def _unknown_page_is_404(response: Response) -> Response:
        path = request.path
        if (response.status_code == 200 and response.mimetype == "text/html"
                and path != prefix and not path.startswith(_NOT_PAGES)
                and not is_known_page(path, prefix)):
            response.status_code = 404
        return response


ONE_YEAR = 31536000
UNFINGERPRINTED_MAX_AGE = 3600
COMPRESSED_TYPES = ("text/html", "text/css", "text/plain", "text/javascript",
                    "application/javascript", "application/json", "image/svg+xml")
_STATIC = ("/_dash-component-suites/", "/assets/")


def _static_cache_key(req) -> str | None:  # untyped: flask.Request
    """The cache key of a compressed static file (its full URL), None for anything else."""
    if req.method == "GET" and req.path.startswith(_STATIC):
        return req.full_path
    return None


class StaticCompressedCache:
    """flask-compress's cache of compressed bodies, for static files only (bounded LRU).

    flask-compress asks it for every compressed response under ``"<algorithm>;<key>"``; a
    dynamic response has the key ``None`` and is never cached.
    """

    def __init__(self, max_entries: int = 128) -> None:
        """At most ``max_entries`` bodies (the app serves a few dozen static files)."""
        self.max_entries = max_entries
        self._entries: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        """A cached body (None for a dynamic response or a miss)."""
        if key.endswith(";None"):
            return None
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def set(self, key: str, body: bytes) -> None:
        """Keep a static file's compressed body (dynamic responses are ignored)."""
        if key.endswith(";None"):
            return
        self._entries[key] = body
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


def _browser_cache(response: Response) -> Response:
    """Long-lived caching for fingerprinted static files, an hour for other assets."""
    if request.method != "GET" or response.status_code not in (200, 304):
        return response
    path = request.path
    if path.startswith("/_dash-component-suites/") and response.cache_control.max_age == ONE_YEAR:
        response.cache_control.public = True
        response.cache_control.immutable = True
    elif path.startswith("/assets/"):
        response.cache_control.no_cache = None
        response.cache_control.public = True
        if "m" in request.args:  # dash's fingerprint: the file's modification time
            response.cache_control.max_age = ONE_YEAR
            response.cache_control.immutable = True
        else:
            response.cache_control.max_age = UNFINGERPRINTED_MAX_AGE
    return response


def install_compression(server: Flask) -> Compress:
    """Compress responses for clients that accept brotli or gzip; cache static files."""
    server.config.update(
        COMPRESS_MIMETYPES=list(COMPRESSED_TYPES), COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["br", "gzip"], COMPRESS_BR_LEVEL=5, COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=500, COMPRESS_CACHE_KEY=_static_cache_key,
        COMPRESS_CACHE_BACKEND=StaticCompressedCache,
        COMPRESS_STREAMING_ENDPOINT_CONDITIONAL=[
            name for name in server.view_functions if name.endswith("static")])
    compress = Compress(server)
    server.after_request(_browser_cache)
    return compress
