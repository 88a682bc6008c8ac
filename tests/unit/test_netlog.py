"""The browser byte benchmark's parsing and aggregation (benchmarks/netlog.py), on DevTools logs
shaped like chromium's performance log; plus the shared results file. No browser, no timing."""

from __future__ import annotations

import base64
import json

import pytest

from benchmarks import common, netlog

INTERVAL = "dashboard-refresh-interval"
URL = "http://127.0.0.1:8050/_dash-update-component"


def entry(method: str, **params) -> dict:
    """One entry as selenium's get_log("performance") returns it."""
    return {"level": "INFO", "timestamp": 0,
            "message": json.dumps({"message": {"method": method, "params": params},
                                   "webview": "x"})}


def callback_body(tick: int | None, trigger: str | None = None) -> str:
    changed = [f"{INTERVAL}.n_intervals"] if tick is not None else [trigger or "other.data"]
    return json.dumps({"output": "a.children", "changedPropIds": changed,
                       "inputs": [{"id": INTERVAL, "property": "n_intervals", "value": tick},
                                  {"id": "sats", "property": "value", "value": False}]})


def request(rid: str, at: float, *, body: str | None = None, url: str = URL,
            wire: int | None = 100, chunks: tuple[int, ...] = (80,), status: int = 200,
            entries: bool = False, omitted: bool = False) -> list[dict]:
    """The events of one request: sent, answered, data chunks, finished (wire None: still open)."""
    req = {"url": url, "method": "POST" if body is not None else "GET", "headers": {}}
    if body is not None and omitted:
        req["hasPostData"] = True
    elif body is not None and entries:
        req["hasPostData"] = True
        req["postDataEntries"] = [{"bytes": base64.b64encode(body.encode()).decode()}]
    elif body is not None:
        req["postData"] = body
    out = [entry("Network.requestWillBeSent", requestId=rid, timestamp=at, request=req),
           entry("Network.responseReceived", requestId=rid, timestamp=at + 0.01,
                 response={"status": status, "encodedDataLength": 50})]
    out += [entry("Network.dataReceived", requestId=rid, dataLength=n, encodedDataLength=n // 2)
            for n in chunks]
    if wire is not None:
        out.append(entry("Network.loadingFinished", requestId=rid, timestamp=at + 0.05,
                         encodedDataLength=wire))
    return out


def test_requests_count_body_wire_and_decoded_bytes_of_each_request():
    body = callback_body(3)
    big = callback_body(4) + " " * 100
    log = (request("1", 1.0, body=body, wire=120, chunks=(300, 200))
           + request("2", 2.0, body="{\"é\": 1}", entries=True, wire=90)
           + request("3", 3.0, body=big, omitted=True)
           + request("4", 4.0, url="data:text/plain,x")
           + [entry("Network.requestWillBeSent", requestId="5", timestamp=5.0,
                    request={"url": URL, "method": "GET"}),
              entry("Network.loadingFailed", requestId="5", errorText="net::ERR_FAILED")]
           + [entry("Page.frameNavigated", frame={})])
    fetched = []

    def fetch(rid):
        fetched.append(rid)
        return big

    reqs = netlog.requests(log, interval_id=INTERVAL, fetch_post=fetch)
    assert [r.request_id for r in reqs] == ["1", "2", "3", "5"]  # data: URLs are no traffic
    first, second, third, failed = reqs
    assert (first.upload, first.wire, first.body) == (len(body), 120, 500)
    assert first.tick == 3 and first.finished and first.status == 200
    assert second.upload == len("{\"é\": 1}".encode()) and second.tick is None
    assert fetched == ["3"] and third.upload == len(big) and third.tick == 4
    assert failed.failed and not failed.finished
    # Without a way to fetch it, a body the log left out counts as nothing.
    assert netlog.requests(request("3", 3.0, body=big, omitted=True),
                           interval_id=INTERVAL)[0].upload == 0


def test_interval_tick_only_for_bodies_the_interval_triggered():
    assert netlog.interval_tick(callback_body(7), INTERVAL) == 7
    assert netlog.interval_tick(callback_body(None, "sats.value"), INTERVAL) is None
    assert netlog.interval_tick("not json", INTERVAL) is None
    assert netlog.interval_tick(None, INTERVAL) is None
    assert netlog.interval_tick(callback_body(7), "another-interval") is None


def test_ticks_group_every_request_a_tick_causes():
    log = (request("0", 0.5, body=callback_body(None, "late.data"))   # before any root
           + request("1", 1.0, body=callback_body(1)) + request("2", 1.01, body=callback_body(1))
           + request("3", 1.2, body=callback_body(None, "snapshot.data"))  # chained to tick 1
           + request("4", 4.0, body=callback_body(2)) + request("5", 4.02, body=callback_body(2))
           + request("6", 7.0, body=callback_body(3), wire=None))          # still in flight
    groups = netlog.group_ticks(netlog.requests(log, interval_id=INTERVAL), gap=1.5)
    assert [[r.request_id for r in g] for g in groups] == [["1", "2", "3"], ["4", "5"], ["6"]]
    figures = netlog.tick_figures(groups)
    per_tick = [netlog.totals(g) for g in groups[:2]]
    assert figures.ticks == 2 and figures.per_tick == per_tick  # the open tick is left out
    assert figures.upload == pytest.approx((per_tick[0]["upload"] + per_tick[1]["upload"]) / 2)
    assert figures.wire == 250 and figures.requests == 2.5 and figures.body == 200


def test_without_interval_bodies_ticks_are_grouped_by_pauses():
    log = (request("1", 1.0) + request("2", 1.3) + request("3", 4.0) + request("4", 4.2)
           + request("5", 4.4))
    groups = netlog.group_ticks(netlog.requests(log, interval_id=INTERVAL), gap=1.5)
    assert [[r.request_id for r in g] for g in groups] == [["1", "2"], ["3", "4", "5"]]
    assert netlog.group_ticks([], gap=1.0) == []


def test_a_failed_or_refused_tick_request_is_an_error_not_a_figure():
    failed = request("1", 1.0, body=callback_body(1), status=500)
    groups = netlog.group_ticks(netlog.requests(failed, interval_id=INTERVAL), gap=1.0)
    with pytest.raises(RuntimeError, match="status 500"):
        netlog.tick_figures(groups)
    open_only = request("1", 1.0, body=callback_body(1), wire=None)
    with pytest.raises(ValueError, match="no complete"):
        netlog.tick_figures(netlog.group_ticks(
            netlog.requests(open_only, interval_id=INTERVAL), gap=1.0))


def test_results_file_keeps_the_other_commands_rows(tmp_path):
    path = tmp_path / "results.json"
    row = {"name": "refresh p50, 10 assets", "value": 1.0}
    load_row = {"name": "load: 1000 sessions every 30 s, tick p95", "value": 20.0}
    common.write_results(path, [row], keep=common.is_load_row)
    common.write_results(path, [load_row], keep=lambda r: not common.is_load_row(r))
    newer = {**row, "value": 2.0}
    written = common.write_results(path, [newer], keep=common.is_load_row)
    assert written == [load_row, newer] == json.loads(path.read_text())
