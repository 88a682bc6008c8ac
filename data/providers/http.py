"""One HTTP GET returning decoded JSON, with HTTP status and transport failures as typed errors.

Adapters call `get_json`; it never retries or sleeps (the registry does that with tenacity) and
never puts an API key in a message: query parameters that carry secrets are masked by
`redact_url`.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import socket
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

from errors import (
    AuthError,
    BadResponseError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    TransientError,
)
from redaction import SECRET_PARAM_NAMES, clip

logger = logging.getLogger(__name__)

# Query parameters that carry credentials at one of the providers (lower case).
SECRET_PARAMS = frozenset(SECRET_PARAM_NAMES)


def redact_url(url: str, params: Mapping[str, Any] | None = None) -> str:
    """Return url (+ params) with every secret query value replaced by ``***``."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list((params or {}).items())
    safe = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in query]
    return urlunsplit(parts._replace(query=urlencode(safe, safe=",*")))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def short_url(url: str) -> str:
    """scheme://host/path of a URL, without its query (for one-line messages)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query="", fragment=""))


def _body_message(response: requests.Response) -> str:
    """A short vendor error text from an error body (JSON or plain), for messages."""
    try:
        body = response.json()
    except ValueError:
        return clip(response.text, 120).strip()
    if isinstance(body, dict):
        if isinstance(body.get("error"), dict) and "status" in body["error"]:
            body = body["error"]  # CoinGecko: {"error": {"status": {error_code, ...}}}
        status = body.get("status")
        if isinstance(status, dict) and status.get("error_message"):
            return clip(str(status["error_message"]), 120)
        for outer in ("chart", "finance", "quoteResponse"):
            inner = body.get(outer)
            err = inner.get("error") if isinstance(inner, dict) else None
            if isinstance(err, dict):
                return clip(str(err.get("description") or err.get("code")), 120)
        if body.get("error"):
            return clip(str(body["error"]), 120)
    return clip(str(body), 120)


def raise_for_status(response: requests.Response, *, provider: str, url_redacted: str) -> None:
    """Map a non-2xx response to the matching typed error (no-op on 2xx)."""
    status = response.status_code
    if status < 400:
        return
    kw = {"provider": provider, "status": status, "url_redacted": url_redacted}
    text = f"{provider}: HTTP {status} from {short_url(url_redacted)}: {_body_message(response)}"
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RateLimitError(text, retry_after=retry_after, **kw)
    if status in (401, 403):
        raise AuthError(text, **kw)
    if status == 404:
        raise NotFoundError(text, **kw)
    if status >= 500 or status == 408:
        raise TransientError(text, **kw)
    raise BadResponseError(text, **kw)


def get_response(session: requests.Session, url: str, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, *, timeout: float = 10,
                 provider: str = "") -> requests.Response:
    """GET and return the response after mapping transport errors and HTTP status to typed errors.

    ``timeout`` bounds the connection, each read and the whole answer (a slow-drip body).

    Raises:
        TransientError: timeout (also in total) or connection failure, 5xx.
        RateLimitError: 429 (``retry_after`` from the header).
        AuthError, NotFoundError, BadResponseError: 401/403, 404, other 4xx.
    """
    shown = redact_url(url, params)
    kw = {"provider": provider, "url_redacted": shown}
    where = short_url(url)
    deadline = time.monotonic() + timeout
    try:
        response = session.get(url, params=dict(params or {}), headers=dict(headers or {}),
                               timeout=timeout, stream=True, allow_redirects=False)
        response = _follow_same_origin(session, response, url, headers, timeout=timeout, **kw)
        _read_body(response, deadline)
    except _DeadlinePassed as exc:
        raise TransientError(f"{provider}: answer took longer than {timeout:g}s in total on "
                             f"{where}", **kw) from exc
    except requests.Timeout as exc:
        raise TransientError(f"{provider}: timed out after {timeout:g}s on {where}", **kw) from exc
    except requests.ConnectionError as exc:
        raise TransientError(f"{provider}: connection failed to {where}", **kw) from exc
    except requests.RequestException as exc:
        raise TransientError(f"{provider}: request failed on {where}: "
                             f"{exc.__class__.__name__}", **kw) from exc
    raise_for_status(response, provider=provider, url_redacted=shown)
    return response


MAX_REDIRECTS = 5


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _follow_same_origin(session: requests.Session, response: requests.Response, url: str,
                        headers: Mapping[str, str] | None, *, timeout: float, provider: str,
                        url_redacted: str) -> requests.Response:
    """Follow redirects within the provider's origin; refuse one to another origin.

    requests re-sends custom headers on a redirect (it strips only ``Authorization``), so
    CoinGecko's and CoinMarketCap's key headers would reach whatever host a redirect names.
    """
    for _ in range(MAX_REDIRECTS):
        if not response.is_redirect:
            return response
        target = urljoin(response.url, response.headers.get("Location", ""))
        response.close()
        if _origin(target) != _origin(url):
            scheme, host, port = _origin(target)
            raise BadResponseError(
                f"{provider}: {short_url(url_redacted)} redirected to another origin "
                f"({scheme}://{host}:{port}); not followed, the request carries credentials",
                provider=provider, status=response.status_code, url_redacted=url_redacted)
        response = session.get(target, headers=dict(headers or {}), timeout=timeout,
                               stream=True, allow_redirects=False)
    if response.is_redirect:
        response.close()
        raise BadResponseError(f"{provider}: more than {MAX_REDIRECTS} redirects from "
                               f"{short_url(url_redacted)}", provider=provider,
                               status=response.status_code, url_redacted=url_redacted)
    return response


class _DeadlinePassed(Exception):
    """The body was still arriving when the request's total time ran out."""


def _read_body(response: requests.Response, deadline: float) -> None:
    """Read the whole body (into ``response.content``) before ``deadline`` (time.monotonic).

    requests' timeout bounds each socket read, not the response: a server trickling one byte
    per second would hold an ingest job for as long as it likes. A timer shuts the socket down
    at the deadline, which ends the blocked read at once.
    """
    expired = threading.Event()

    def abort() -> None:
        expired.set()
        sock = getattr(getattr(response.raw, "_connection", None), "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), abort)
    timer.daemon = True
    timer.start()
    try:
        response.content  # noqa: B018 - reads and keeps the streamed body
    except requests.RequestException as exc:
        response.close()
        if expired.is_set():
            raise _DeadlinePassed from exc
        raise
    finally:
        timer.cancel()
    if expired.is_set():  # a body without Content-Length ends "cleanly" at the shutdown
        response.close()
        raise _DeadlinePassed


def decode_json(response: requests.Response, *, provider: str, url_redacted: str) -> Any:
    """Decode a JSON body; a truncated or non-JSON body is a BadResponseError."""
    try:
        return json.loads(response.content.decode(response.encoding or "utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadResponseError(f"{provider}: undecodable JSON from {short_url(url_redacted)}",
                               provider=provider, status=response.status_code,
                               url_redacted=url_redacted) from exc


def get_json(session: requests.Session, url: str, params: Mapping[str, Any] | None = None,
             headers: Mapping[str, str] | None = None, *, timeout: float = 10,
             provider: str = "") -> Any:
    """GET url and return the decoded JSON body.

    Args:
        session: requests session (tests pass one pointed at a local server).
        url: absolute URL (base_url from config + the provider's path).
        params: query parameters; secret ones are masked in every message.
        headers: request headers (keys sent as headers never appear in messages).
        timeout: seconds for connect and read.
        provider: name used in messages and on the error.

    Raises:
        ProviderError subclasses, see `get_response` and `decode_json`.
    """
    response = get_response(session, url, params, headers, timeout=timeout, provider=provider)
    return decode_json(response, provider=provider, url_redacted=redact_url(url, params))


__all__ = ["ProviderError", "decode_json", "get_json", "get_response", "parse_retry_after",
           "raise_for_status", "redact_url", "short_url"]
