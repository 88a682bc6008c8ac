"""Chromium's DevTools network log -> requests with their bytes, grouped into refresh ticks.

Pure functions over the entries of ``driver.get_log("performance")`` (each entry's
``message`` is the JSON text of ``{"message": {"method": ..., "params": ...}}``). Per request:

* ``upload``: the request body in bytes (``Network.requestWillBeSent`` ``postDataEntries`` /
  ``postData``; browsers do not compress request bodies, so this is also the body on the wire;
  request headers are not counted);
* ``wire``: ``Network.loadingFinished.encodedDataLength``, everything received for it on the
  wire: response headers plus the (compressed, if the server compressed it) body; 0 for a
  request answered from the browser's cache;
* ``body``: the decoded response body, the sum of ``Network.dataReceived.dataLength``.

A refresh tick is every request the tick causes: the requests whose body names the interval
(``changedPropIds`` holds ``<interval>.n_intervals``) start tick ``n_intervals``; any other
request joins the tick started last before it (a callback chained to what the tick wrote).
Without such roots (a protocol whose tick reaches the server some other way) requests are
grouped by time instead: a pause longer than ``gap`` seconds starts a new tick.
"""

from __future__ import annotations

import base64
import json
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    """One network request of the page (a redirect continues the same request)."""

    request_id: str
    url: str
    method: str
    start: float            # Network timestamp (s, monotonic)
    upload: int = 0
    wire: int = 0
    body: int = 0
    status: int | None = None
    finished: bool = False
    failed: bool = False
    post: str | None = None  # the request body as text (None: no body)
    tick: int | None = None  # n_intervals when the body says the interval triggered it


@dataclass
class TickFigures:
    """Medians over complete ticks of all the requests of one tick."""

    ticks: int
    upload: float
    wire: float
    body: float
    requests: float
    per_tick: list[dict[str, int]] = field(default_factory=list)


def events(entries: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(method, params) of every Network.* event in performance-log entries, in order."""
    out = []
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        if message.get("method", "").startswith("Network."):
            out.append((message["method"], message.get("params", {})))
    return out


def post_body(request: dict[str, Any]) -> str | None:
    """The body of a CDP ``Request`` as text; None if it has none or it was left out."""
    entries = request.get("postDataEntries")
    if entries:
        raw = b"".join(base64.b64decode(e.get("bytes", "")) for e in entries)
        return raw.decode("utf-8", errors="replace")
    return request.get("postData")


def interval_tick(body: str | None, interval_id: str) -> int | None:
    """``n_intervals`` of a Dash callback body that the interval triggered, else None."""
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    trigger = f"{interval_id}.n_intervals"
    if trigger not in (data.get("changedPropIds") or []):
        return None
    for item in data.get("inputs") or []:
        for one in item if isinstance(item, list) else [item]:
            if (isinstance(one, dict) and one.get("id") == interval_id
                    and one.get("property") == "n_intervals"):
                return one.get("value")
    return None


def requests(entries: Iterable[dict[str, Any]], *, interval_id: str,
             fetch_post: Callable[[str], str | None] | None = None) -> list[Request]:
    """Every http(s) request in the log with its bytes, in order of start.

    ``fetch_post(request_id)`` fetches a body the log left out (Chromium omits long ones and
    sets ``hasPostData``); without it such a body counts as 0 bytes.
    """
    found: dict[str, Request] = {}
    for method, params in events(entries):
        rid = params.get("requestId")
        if method == "Network.requestWillBeSent":
            req = params["request"]
            if not req["url"].startswith(("http://", "https://")):
                continue
            if rid in found:  # a redirect: same id, the next hop
                continue
            post = post_body(req)
            if post is None and req.get("hasPostData") and fetch_post is not None:
                post = fetch_post(rid)
            found[rid] = Request(rid, req["url"], req["method"], float(params["timestamp"]),
                                 upload=len(post.encode("utf-8")) if post else 0, post=post,
                                 tick=interval_tick(post, interval_id))
        elif rid not in found:
            continue
        elif method == "Network.responseReceived":
            found[rid].status = params["response"].get("status")
        elif method == "Network.dataReceived":
            found[rid].body += int(params.get("dataLength", 0))
        elif method == "Network.loadingFinished":
            found[rid].wire = int(params.get("encodedDataLength", 0))
            found[rid].finished = True
        elif method == "Network.loadingFailed":
            found[rid].failed = True
    return sorted(found.values(), key=lambda r: r.start)


def group_ticks(reqs: list[Request], *, gap: float) -> list[list[Request]]:
    """Requests grouped by refresh tick (see the module text), in order."""
    if not reqs:
        return []
    if any(r.tick is not None for r in reqs):
        groups: list[list[Request]] = []
        current: int | None = None
        for r in reqs:
            if r.tick is not None and r.tick != current:
                current = r.tick
                groups.append([])
            if groups:
                groups[-1].append(r)  # requests before the first root are not a tick's
        return groups
    groups = [[reqs[0]]]
    for before, r in zip(reqs, reqs[1:], strict=False):
        if r.start - before.start > gap:
            groups.append([])
        groups[-1].append(r)
    return groups


def totals(reqs: Iterable[Request]) -> dict[str, int]:
    """Sum of upload, wire and body bytes, and the number of requests."""
    reqs = list(reqs)
    return {"upload": sum(r.upload for r in reqs), "wire": sum(r.wire for r in reqs),
            "body": sum(r.body for r in reqs), "requests": len(reqs)}


def tick_figures(groups: list[list[Request]]) -> TickFigures:
    """Medians per tick over the ticks whose every request finished (failed ones: error).

    Raises:
        RuntimeError: a request of a tick failed or answered an HTTP error.
        ValueError: no complete tick.
    """
    complete = []
    for group in groups:
        bad = [r for r in group if r.failed or (r.status or 0) >= 400]
        if bad:
            raise RuntimeError(f"tick request failed: {bad[0].method} {bad[0].url} "
                               f"(status {bad[0].status})")
        if all(r.finished for r in group):
            complete.append(totals(group))
    if not complete:
        raise ValueError("no complete refresh tick in the network log")

    def med(key: str) -> float:
        return float(statistics.median(t[key] for t in complete))

    return TickFigures(ticks=len(complete), upload=med("upload"), wire=med("wire"),
                       body=med("body"), requests=med("requests"), per_tick=complete)
