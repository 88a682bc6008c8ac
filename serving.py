"""Serving glue: a busy port as one line, and HTTP 404 for pages that do not exist.

Dash answers every path with its single-page index (HTTP 200) and draws the 404 page in the
browser; a crawler, a monitor or a reverse proxy only sees the status, so an unknown page gets
its 404 here while the body still renders ``pages/not_found_404`` (a link back to the dashboard).
"""

from __future__ import annotations

import errno
import re
import socket

import dash
from flask import Response, request

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
