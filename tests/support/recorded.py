"""Load recorded provider payloads from tests/fixtures/<provider>/ (see SOURCES.md there)."""

from __future__ import annotations

import json

from tests.support.sample import FIXTURES


def load(provider: str, name: str):
    """Decoded JSON of one recorded payload."""
    return json.loads((FIXTURES / provider / name).read_text(encoding="utf-8"))


def raw(provider: str, name: str) -> bytes:
    """Bytes of one recorded payload (to serve verbatim)."""
    return (FIXTURES / provider / name).read_bytes()


# Documented shape of /v2/cryptocurrency/ohlcv/historical?id=1 (no recording available: paid).
OHLCV = {
    "status": {"error_code": 0, "error_message": None},
    "data": {"id": 1, "name": "Bitcoin", "symbol": "BTC", "quotes": [
        {"time_open": "2019-01-02T00:00:00.000Z", "time_close": "2019-01-02T23:59:59.999Z",
         "quote": {"USD": {"open": 3849.21, "high": 3947.98, "low": 3817.41, "close": 3943.41,
                           "volume": 5244856835.7, "market_cap": 68849856732.3,
                           "timestamp": "2019-01-02T23:59:59.999Z"}}},
        {"time_open": "2019-01-03T00:00:00.000Z", "time_close": "2019-01-03T23:59:59.999Z",
         "quote": {"USD": {"open": 3931.05, "high": 3935.69, "low": 3826.22, "close": 3836.74,
                           "volume": 4530215218.8, "market_cap": 66994920902.3,
                           "timestamp": "2019-01-03T23:59:59.999Z"}}}]}}
