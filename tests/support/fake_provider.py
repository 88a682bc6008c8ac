"""A local fake CoinGecko (pytest-httpserver on 127.0.0.1) that counts the calls it receives.

Serves ``/api/v3/simple/price`` and ``/api/v3/coins/{id}/market_chart/range`` in the vendor's
format (prices made up, deterministic); anything else gets a 404. Processes started by a test
reach it through ``provider_env(url)``, which points every source at it and leaves only
CoinGecko enabled, so no request can leave the machine.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter

from werkzeug import Request, Response

from tests.support.provider_server import LocalProvider

QUOTES_PATH = "/api/v3/simple/price"
HISTORY_RE = re.compile(r"^/api/v3/coins/([^/]+)/market_chart/range$")


class FakeCoinGecko(LocalProvider):
    """A counting fake provider; ``calls()`` returns a Counter of request paths."""

    def __init__(self) -> None:
        super().__init__()
        self._counts: Counter = Counter()
        self._lock = threading.Lock()
        self.history_delay = 0.0   # seconds each history answer is held back (slow provider)
        # Extra seconds for windows over 30 days: a backfill's big answer is slower than the
        # few days of the daily increment, so the increment can overtake a running backfill.
        self.long_history_delay = 0.0
        self.history_started = threading.Event()
        self.unknown_ids: set[str] = set()   # coin ids answered with CoinGecko's 404
        self.route_all()

    def calls(self) -> Counter:
        """Requests received so far, by kind ("quotes", "history", "other")."""
        with self._lock:
            return Counter(self._counts)

    def total(self) -> int:
        return sum(self.calls().values())

    def _handle(self, request: Request) -> Response:
        now = 1_763_900_000  # a fixed "last updated" second; the store only needs it to be UTC
        if request.path == QUOTES_PATH:
            kind = "quotes"
            ids = [i for i in request.args.get("ids", "").split(",") if i]
            body = {cid: {"usd": 100.0 + n, "usd_24h_change": 1.5, "last_updated_at": now}
                    for n, cid in enumerate(sorted(ids))}
        elif HISTORY_RE.match(request.path):
            kind = "history"
            if HISTORY_RE.match(request.path).group(1) in self.unknown_ids:
                with self._lock:
                    self._counts[kind] += 1
                return Response(json.dumps({"error": "coin not found"}), status=404,
                                content_type="application/json")
            self.history_started.set()
            start, end = int(float(request.args["from"])), int(float(request.args["to"]))
            time.sleep(self.history_delay
                       + (self.long_history_delay if end - start > 30 * 86400 else 0.0))
            days = range(start - start % 86400, end, 86400)
            body = {"prices": [[d * 1000, 50.0 + (d // 86400) % 7] for d in days],
                    "market_caps": [[d * 1000, 1e9] for d in days],
                    "total_volumes": [[d * 1000, 1e6] for d in days]}
        else:
            with self._lock:
                self._counts["other"] += 1
            return Response("not found", status=404)
        with self._lock:
            self._counts[kind] += 1
        return Response(json.dumps(body), status=200, content_type="application/json")


def provider_env(url: str) -> dict[str, str]:
    """Environment overrides sending every provider to the fake (only CoinGecko enabled)."""
    env = {}
    for source in ("COINGECKO", "COINMARKETCAP", "ALPHAVANTAGE", "YAHOO"):
        env[f"BTCFOLIO__SOURCES__{source}__BASE_URL"] = url
        env[f"BTCFOLIO__SOURCES__{source}__TIMEOUT_SECONDS"] = "3"
        if source != "COINGECKO":
            env[f"BTCFOLIO__SOURCES__{source}__ENABLED"] = "false"
    return env
