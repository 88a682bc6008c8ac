"""The local HTTP server every provider stand-in runs on (pytest-httpserver, any free port).

A stand-in subclasses ``LocalProvider``, sets its state, then calls ``route_all()`` so every
request reaches its ``_handle`` (where it answers in the provider's own formats).
"""

from __future__ import annotations

import re
from typing import Self

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


class LocalProvider:
    """Lifecycle of a stand-in: ``start()`` → ``url`` → ``stop()``."""

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)

    def route_all(self) -> None:
        """Send every request to ``_handle``."""
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._handle)

    def _handle(self, request: Request) -> Response:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server.is_running():
            self.server.clear()
            self.server.stop()
