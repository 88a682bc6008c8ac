"""A fault-injecting HTTP proxy (stdlib ``http.server``) in front of a fake provider.

pytest-httpserver answers every request with a whole, well-formed response, so it cannot reset
a connection or trickle bytes. This proxy can: each request it receives is either forwarded to
an upstream fake (``tests.fake_provider.FakeCoinGecko``) or answered with the current fault:

* ``timeout``   read the request, never answer (until the client gives up)
* ``status``    an HTTP error status with a vendor body and headers (429 + Retry-After, 503 ...)
* ``truncated`` HTTP 200 whose JSON body is cut in half (Content-Length matches the cut body)
* ``body200``   HTTP 200 carrying the provider's documented error object (fixture files)
* ``reset``     close the connection with a TCP RST before any byte of the answer
* ``drip``      headers at once, then the body one byte every ``drip_interval`` seconds

Requests are attributed to a provider by path, so one proxy serves as base_url of all four.
"""

from __future__ import annotations

import socket
import struct
import threading
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.sample import FIXTURES


def provider_of(path: str) -> str:
    """Which provider a request path belongs to (the adapters' documented paths)."""
    if path.startswith("/api/v3/"):
        return "coingecko"
    if path.startswith("/v1/cryptocurrency") or path.startswith("/v2/cryptocurrency"):
        return "coinmarketcap"
    if path.startswith("/query"):
        return "alphavantage"
    return "yahoo"  # /v8/finance/chart, /v7/finance/quote, getcrumb, the cookie page


def kind_of(path: str) -> str:
    """"history" or "quotes" (anything else, e.g. Yahoo's cookie/crumb steps, is "other")."""
    if "market_chart" in path or "/v8/finance/chart" in path or "TIME_SERIES" in path:
        return "history"
    if ("simple/price" in path or "quotes/latest" in path or "/v7/finance/quote" in path
            or "GLOBAL_QUOTE" in path):
        return "quotes"
    return "other"


@dataclass(frozen=True)
class Fault:
    """What the proxy answers instead of forwarding (see the module docstring)."""

    kind: str = "pass"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    # provider -> body; a provider without an entry gets ``default_body``.
    bodies: dict[str, bytes] = field(default_factory=dict)
    default_body: bytes = b'{"error": "fault"}'
    drip_interval: float = 0.2

    def body_for(self, provider: str) -> bytes:
        return self.bodies.get(provider, self.default_body)


def fixture(provider: str, name: str) -> bytes:
    """A recorded payload (tests/fixtures/<provider>/<name>), byte for byte."""
    return (FIXTURES / provider / name).read_bytes()


class FaultProxy:
    """The proxy; ``fault`` may be swapped at any time, ``served`` counts answers by kind."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.fault = Fault()
        self._lock = threading.Lock()
        self._served: Counter = Counter()
        self._closing = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:  # quiet: the test asserts what matters
                pass

            def do_GET(self) -> None:  # http.server's name
                proxy._answer(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()

    def set(self, fault: Fault) -> None:
        with self._lock:
            self.fault = fault

    def served(self) -> Counter:
        """Answers so far, keyed (fault kind, provider, request kind)."""
        with self._lock:
            return Counter(self._served)

    def count(self, kind: str, provider: str | None = None, what: str | None = None) -> int:
        return sum(n for (k, p, w), n in self.served().items()
                   if k == kind and provider in (None, p) and what in (None, w))

    # ---- answers ------------------------------------------------------------------------
    def _answer(self, req: BaseHTTPRequestHandler) -> None:
        with self._lock:
            fault = self.fault
            self._served[(fault.kind, provider_of(req.path), kind_of(req.path))] += 1
        provider = provider_of(req.path)
        if fault.kind == "pass":
            self._forward(req)
        elif fault.kind == "timeout":
            self._hold(req)
        elif fault.kind == "reset":
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                      struct.pack("ii", 1, 0))
            req.close_connection = True
            req.connection.close()
        elif fault.kind == "truncated":
            body = fault.body_for(provider)
            self._send(req, 200, body[: len(body) // 2], ())
        elif fault.kind in ("status", "body200"):
            self._send(req, fault.status, fault.body_for(provider), fault.headers)
        elif fault.kind == "drip":
            self._drip(req, fault.body_for(provider), fault.drip_interval)
        else:  # pragma: no cover - a typo in a test
            raise ValueError(fault.kind)

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, body: bytes,
              headers: tuple[tuple[str, str], ...]) -> None:
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            req.send_header(name, value)
        req.end_headers()
        req.wfile.write(body)
        req.wfile.flush()

    def _forward(self, req: BaseHTTPRequestHandler) -> None:
        try:
            with urllib.request.urlopen(self.upstream + req.path, timeout=30) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        self._send(req, status, body, ())

    def _hold(self, req: BaseHTTPRequestHandler) -> None:
        """Answer nothing: wait until the client closes its end (or the proxy stops)."""
        req.close_connection = True
        req.connection.settimeout(0.2)
        while not self._closing.is_set():
            try:
                if req.connection.recv(1024) == b"":
                    return  # the client gave up (its read timeout)
            except TimeoutError:
                continue
            except OSError:
                return

    def _drip(self, req: BaseHTTPRequestHandler, body: bytes, interval: float) -> None:
        req.close_connection = True
        req.send_response(200)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.flush()
        for i in range(len(body)):
            if self._closing.wait(interval):
                return
            try:
                req.wfile.write(body[i:i + 1])
                req.wfile.flush()
            except OSError:
                return  # the client gave up
