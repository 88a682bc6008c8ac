"""data.providers.http.get_json on a local server: status and body mapped to typed errors, keys masked."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests
from werkzeug import Response

from data.providers.http import get_json, parse_retry_after, redact_url
from errors import (
    AuthError,
    BadResponseError,
    NotFoundError,
    RateLimitError,
    TransientError,
)


@pytest.mark.parametrize(("status", "error"), [
    (401, AuthError), (403, AuthError), (404, NotFoundError), (400, BadResponseError),
    (500, TransientError), (503, TransientError), (429, RateLimitError)])
def test_status_mapping_and_key_never_in_message(httpserver, status, error):
    httpserver.expect_request("/p").respond_with_data('{"error": "nope"}', status=status)
    with pytest.raises(error) as info:
        get_json(requests.Session(), httpserver.url_for("/p"), {"apikey": "SECRET", "q": "1"},
                 provider="test")
    assert "SECRET" not in str(info.value) and "SECRET" not in info.value.url_redacted
    assert info.value.status == status and info.value.provider == "test"


def test_retry_after_seconds_on_429(httpserver):
    httpserver.expect_request("/p").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "7"}))
    with pytest.raises(RateLimitError) as info:
        get_json(requests.Session(), httpserver.url_for("/p"))
    assert info.value.retry_after == 7.0


def test_connection_refused_is_transient():
    with pytest.raises(TransientError, match="connection failed"):
        get_json(requests.Session(), "http://127.0.0.1:9/x", {"token": "T0K"}, timeout=1)


def test_truncated_json_is_bad_response(httpserver):
    httpserver.expect_request("/p").respond_with_data('{"a": [1, 2',
                                                      content_type="application/json")
    with pytest.raises(BadResponseError, match="undecodable JSON"):
        get_json(requests.Session(), httpserver.url_for("/p"))


def test_redact_and_http_date_retry_after():
    assert redact_url("http://h/q?function=X&apikey=K1", {"x_cg_demo_api_key": "K2"}) == (
        "http://h/q?function=X&apikey=***&x_cg_demo_api_key=***")
    now = datetime(2025, 8, 13, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Wed, 13 Aug 2025 12:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("garbage") is None and parse_retry_after(None) is None
