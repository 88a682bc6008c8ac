"""Shared helpers of the HTTP tests: settings pointed at pytest-httpserver, fast registries."""

from __future__ import annotations

import json
from pathlib import Path

from settings import RateLimit, SourceSettings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_bytes(provider: str, name: str) -> bytes:
    """Recorded payload bytes (served verbatim)."""
    return (FIXTURES / provider / name).read_bytes()


def fixture_json(provider: str, name: str):
    """Recorded payload decoded."""
    return json.loads(fixture_bytes(provider, name))


def source(httpserver, *, plan=None, timeout=2.0, per_minute=None, per_day=None) -> SourceSettings:
    """SourceSettings whose base_url is the local test server (scheme://host:port, no path)."""
    return SourceSettings(base_url=httpserver.url_for("/").rstrip("/"), plan=plan,
                          timeout_seconds=timeout,
                          rate_limit=RateLimit(per_minute=per_minute, per_day=per_day))


def calls(httpserver, path: str) -> int:
    """How many requests the server received on a path."""
    return sum(1 for request, _ in httpserver.log if request.path == path)
