"""Requests the app does not understand: a short 4xx, nothing stored, one log line, no body echo.

The red-team run sent these and got 500s with tracebacks (and 2 MB bodies logged twice): forged
Dash callback bodies (deep nesting, unknown outputs, bad outputs/inputs/state/changedPropIds,
forged snapshot state) and unknown ``/_dash-component-suites/`` paths.
"""

from __future__ import annotations

import copy
import json
import logging

import pytest

from app import create_app, setup_before_serving

CALLBACK = "/_dash-update-component"
REFRESH = "dashboard-refresh-interval"
REMOVE_PATTERN = '{"symbol":["ALL"],"type":"remove-asset"}'


@pytest.fixture
def client(settings, repo):
    return setup_before_serving(create_app(settings, repo, environ={})).server.test_client()


def _valid_body(client, first_input: str) -> dict:
    """The body the renderer would send for the callback whose first input is first_input."""
    dep = next(d for d in client.get("/_dash-dependencies").get_json()
               if d["inputs"] and str(d["inputs"][0]["id"]) == first_input)
    spec = dep["output"]
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    outputs = [{"id": json.loads(c) if c.startswith("{") else c, "property": p}
               for c, p in (part.rsplit(".", 1) for part in parts)]

    def entries(declared):
        return [[] if str(d["id"]).startswith("{") else {**d, "value": None} for d in declared]

    return {"output": spec, "outputs": outputs if spec.startswith("..") else outputs[0],
            "inputs": entries(dep["inputs"]), "state": entries(dep["state"]),
            "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"]}


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def _forge(body: dict, path: tuple, value) -> dict:
    forged = copy.deepcopy(body)
    node = forged
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return forged


_DELETE = object()
# (name, path into the refresh callback's valid body, forged value)
REFRESH_FORGERIES = [
    ("unknown output", ("output",), "nope.children"),
    ("2 MB unknown output", ("output",), "x" * 2_000_000),
    ("output not a string", ("output",), 42),
    ("outputs missing", ("outputs",), _DELETE),
    ("outputs not a list", ("outputs",), "x"),
    ("outputs too short", ("outputs",), []),
    # The refresh has one output: dash sends it as one object, not a list.
    ("outputs unknown id", ("outputs", "id"), "not-a-component"),
    ("outputs wrong property", ("outputs", "property"), "style"),
    ("outputs entry not an object", ("outputs",), "dashboard-live.data"),
    ("inputs missing", ("inputs",), _DELETE),
    ("inputs an object", ("inputs",), {"id": REFRESH}),
    ("inputs too long", ("inputs",), [{"id": REFRESH, "property": "n_intervals"}] * 5),
    ("inputs unknown id", ("inputs", 0, "id"), "nope"),
    ("inputs entry a number", ("inputs", 0), 7),
    ("inputs property missing", ("inputs", 0, "property"), _DELETE),
    ("state a string", ("state",), "x"),
    ("state too short", ("state",), []),
    ("state unknown id", ("state", 0, "id"), {"type": "x"}),
    ("changedPropIds a string", ("changedPropIds",), "x.y"),
    ("changedPropIds numbers", ("changedPropIds",), [1, 2]),
    ("deep nesting in a value", ("inputs", 0, "value"), _nested(200)),
    ("deep nesting in state", ("state", 0, "value"), {"a": _nested(40)}),
]
# Forged values inside a well-shaped body: the view key the page keeps in the browser.
FORGED_SNAPSHOTS = [42, "x", [1, 2], {"assets": 5}, {"assets": [{"symbol": 1}]},
                    {"view": {"cards": "x"}, "assets": {"BTC": None}},
                    {"sid": "../../quote:BTC", "v": 1}, {"sid": "a" * 22, "v": 10**30}]


def _records_since(caplog, start: int) -> list[logging.LogRecord]:
    return caplog.records[start:]


def _assert_refused(client, caplog, raw: bytes, *, status: int = 400) -> None:
    start = len(caplog.records)
    resp = client.post(CALLBACK, data=raw, content_type="application/json")
    assert resp.status_code == status, resp.get_data(as_text=True)[:200]
    text = resp.get_data(as_text=True)
    assert len(text) < 200 and "Traceback" not in text
    records = _records_since(caplog, start)
    assert len(records) <= 1, [r.getMessage()[:120] for r in records]
    assert all(not r.exc_info and len(r.getMessage()) < 300 for r in records)


@pytest.fixture(autouse=True)
def _log_everything(caplog):
    caplog.set_level(logging.DEBUG, logger="btcfolio")
    caplog.set_level(logging.INFO)


def test_forged_valid_bodies_still_run(client, caplog):
    # The harness's own valid bodies reach the callbacks (refusals below mean the forgery).
    body = _valid_body(client, REFRESH)
    body["inputs"][0]["value"] = 1
    resp = client.post(CALLBACK, json=body)
    assert resp.status_code == 200
    assert resp.get_json()["response"]["dashboard-live"]["data"]["full"] is True


@pytest.mark.parametrize(("name", "path", "value"), REFRESH_FORGERIES,
                         ids=[f[0] for f in REFRESH_FORGERIES])
def test_forged_callback_body_is_400_with_one_log_line(client, caplog, repo, settings,
                                                       name, path, value):
    before = repo.load_holdings(settings.portfolio.name)
    forged = _forge(_valid_body(client, REFRESH), path, value)
    _assert_refused(client, caplog, json.dumps(forged).encode())
    assert repo.load_holdings(settings.portfolio.name) == before


@pytest.mark.parametrize("raw", [b"[" * 100_000, b"[]", b"{", b"null", b'"x"',
                                 json.dumps({"a": _nested(60)}).encode()],
                         ids=["parser-deep", "list", "truncated", "null", "string", "deep"])
def test_forged_callback_raw_bodies_are_400(client, caplog, raw):
    _assert_refused(client, caplog, raw)


@pytest.mark.parametrize("pattern_id", [
    {"symbol": "ETH"},                                   # a key missing
    {"symbol": "ETH", "type": "other"},                  # another component type
    {"symbol": {"x": 1}, "type": "remove-asset"},        # a wildcard value that is not a scalar
    {"symbol": "ETH", "type": "remove-asset", "x": 1}])  # an extra key
def test_forged_pattern_ids_are_400(client, caplog, pattern_id):
    body = _valid_body(client, REMOVE_PATTERN)
    body["inputs"] = [[{"id": pattern_id, "property": "n_clicks", "value": 1}]]
    _assert_refused(client, caplog, json.dumps(body).encode())


@pytest.mark.parametrize("snapshot", FORGED_SNAPSHOTS)
def test_forged_snapshot_state_is_answered_without_a_traceback(client, caplog, snapshot):
    body = _valid_body(client, REFRESH)
    body["inputs"][0]["value"] = 1
    body["state"][0]["value"] = snapshot
    start = len(caplog.records)
    resp = client.post(CALLBACK, json=body)
    # A key the server cannot use gets a full render: never an error.
    assert resp.status_code == 200
    assert resp.get_json()["response"]["dashboard-live"]["data"]["full"] is True
    assert "Traceback" not in resp.get_data(as_text=True)
    records = _records_since(caplog, start)
    assert len(records) <= 1 and not any(r.exc_info for r in records)


@pytest.mark.parametrize("path", [
    "/_dash-component-suites/nope/x.js", "/_dash-component-suites/dash/nonexistent.js",
    "/_dash-component-suites/dash/../../etc/passwd", "/_dash-component-suites/plotly/x.v1m1.js",
    "/_dash-component-suites/dash/deps/react@0.0.0.min.js"])
def test_forged_unknown_component_suite_path_is_404_without_the_path_list(client, caplog, path):
    start = len(caplog.records)
    resp = client.get(path)
    assert resp.status_code == 404
    text = resp.get_data(as_text=True)
    assert "registered" not in text and "dash_renderer" not in text and len(text) < 200
    records = _records_since(caplog, start)
    assert len(records) <= 1 and not any(r.exc_info for r in records)


def test_forged_requests_do_not_flood_the_log(client, caplog):
    # 20 forged 2 MB bodies wrote 84 MB of log before: now a bounded line each, no body.
    body = _valid_body(client, REFRESH)
    forged = _forge(body, ("output",), "y" * 2_000_000)
    raw = json.dumps(forged).encode()
    start = len(caplog.records)
    for _ in range(20):
        assert client.post(CALLBACK, data=raw, content_type="application/json").status_code == 400
    logged = sum(len(r.getMessage()) + len(r.exc_text or "") for r in caplog.records[start:])
    assert logged < 20 * 300
