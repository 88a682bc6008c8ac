"""Helpers of the adapter tests against a local HTTP server (pytest-httpserver)."""

from __future__ import annotations

from settings import RateLimit, SourceSettings


def source(httpserver, *, plan=None, timeout=2.0, per_minute=None, per_day=None) -> SourceSettings:
    """SourceSettings whose base_url is the local test server (scheme://host:port, no path)."""
    return SourceSettings(base_url=httpserver.url_for("/").rstrip("/"), plan=plan,
                          timeout_seconds=timeout,
                          rate_limit=RateLimit(per_minute=per_minute, per_day=per_day))


def calls(httpserver, path: str) -> int:
    """How many requests the server received on a path."""
    return sum(1 for request, _ in httpserver.log if request.path == path)
