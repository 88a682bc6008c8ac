"""The load client's Dash protocol: patches applied like the renderer, bodies like the renderer."""

from __future__ import annotations

import copy
import json

import pytest
from dash import Patch

from benchmarks.dash_client import (
    SNAPSHOT,
    DashSession,
    ProtocolError,
    apply_clientside,
    apply_patch,
    full_render,
    parse_clientside,
    parse_dependencies,
)


def _ops(patch: Patch) -> dict:
    # Through JSON, as the patch travels in a callback response.
    return json.loads(json.dumps(patch.to_plotly_json()))


def test_apply_patch_assigns_deletes_and_merges_like_the_renderer():
    old = {"header": {"value": "₿1", "usd": "$1"}, "cards": {"BTC": ["a", "b"]}, "gone": 1}
    patch = Patch()
    patch["header"]["value"] = "₿2"
    patch["cards"]["BTC"][1] = "c"
    del patch["gone"]
    patch["cards"].update({"ETH": ["d", "e"]})
    new = apply_patch(copy.deepcopy(old), _ops(patch))
    assert new == {"header": {"value": "₿2", "usd": "$1"},
                   "cards": {"BTC": ["a", "c"], "ETH": ["d", "e"]}}


def test_apply_patch_refuses_what_a_browser_could_not_apply():
    patch = Patch()
    patch["missing"]["deeper"] = 1
    with pytest.raises(ProtocolError):
        apply_patch({}, _ops(patch))
    patch = Patch()
    patch["x"].reverse()
    with pytest.raises(ProtocolError):
        apply_patch({"x": [2, 1]}, _ops(patch))


DEPS = [
    {"output": "..a.children...store.data..", "inputs": [{"id": "tick", "property": "n"}],
     "state": [{"id": "store", "property": "data"}], "prevent_initial_call": False},
    {"output": "b.children", "inputs": [{"id": "tick", "property": "n"}], "state": [],
     "prevent_initial_call": True},
    {"output": "c.data", "inputs": [{"id": "tick", "property": "n"}], "state": [],
     "clientside_function": {"namespace": "x", "function_name": "y"}},
    {"output": "d.children", "inputs": [{"id": '{"type":["ALL"]}', "property": "n"}],
     "state": []},
]
LAYOUT = {"type": "Div", "namespace": "h", "props": {"children": [
    {"type": "Interval", "namespace": "d", "props": {"id": "tick", "n": 0}},
    {"type": "Store", "namespace": "d", "props": {"id": "store"}},
    {"type": "Div", "namespace": "h", "props": {"id": "a", "children": None}},
    {"type": "Div", "namespace": "h", "props": {"id": "b", "children": "x"}}]}}


def test_body_carries_current_values_and_state_from_the_previous_answer():
    callbacks = parse_dependencies(DEPS)
    # Clientside and pattern-matching callbacks are not server calls of the load test.
    assert [cb.output for cb in callbacks] == ["..a.children...store.data..", "b.children"]
    tab = DashSession(LAYOUT, callbacks)
    first, single = callbacks
    assert tab.initial_callbacks() == [first]
    answer = {"multi": True, "response": {"a": {"children": "one"}, "store": {"data": {"v": 1}}}}
    tab.apply(first, 200, json.dumps(answer).encode())
    patch = Patch()
    patch["v"] = 2
    tab.props[("tick", "n")] = 1
    body = tab.body(first, [("tick", "n")])
    assert body == {
        "output": "..a.children...store.data..",
        "outputs": [{"id": "a", "property": "children"}, {"id": "store", "property": "data"}],
        "inputs": [{"id": "tick", "property": "n", "value": 1}],
        "changedPropIds": ["tick.n"], "parsedChangedPropsIds": ["tick.n"],
        "state": [{"id": "store", "property": "data", "value": {"v": 1}}]}
    tab.apply(first, 200, json.dumps({"multi": True, "response": {
        "store": {"data": _ops(patch)}}}).encode())
    assert tab.body(first, [])["state"][0]["value"] == {"v": 2}
    assert tab.apply(first, 204, b"") == {}
    assert tab.body(single, [])["outputs"] == {"id": "b", "property": "children"}
    with pytest.raises(ProtocolError):
        tab.apply(first, 200, b"<html>error</html>")


def test_prune_keeps_what_later_ticks_send_and_update_and_forgets_the_rest():
    deps = DEPS + [{"output": "fig.figure", "inputs": [{"id": "pick", "property": "value"}],
                    "state": [], "prevent_initial_call": False}]
    layout = copy.deepcopy(LAYOUT)
    layout["props"]["children"] += [
        {"type": "Graph", "namespace": "d", "props": {"id": "fig", "figure": {"data": [1] * 50}}},
        {"type": "Dropdown", "namespace": "d", "props": {"id": "pick", "value": "x"}}]
    tab = DashSession(layout, parse_dependencies(deps))
    tab.props[("store", "data")] = {"v": 1}
    first = tab.callbacks[0]
    before = tab.body(first, [("tick", "n")])
    tab.prune(("tick", "n"))
    assert ("fig", "figure") not in tab.props          # nothing sends or checks it
    assert tab.props[("pick", "value")] == "x"         # an input of another callback
    assert tab.props[("b", "children")] == "x"         # an output of a tick callback
    assert tab.body(first, [("tick", "n")]) == before  # the next tick sends the same


def test_prune_keeps_what_the_mirrored_clientside_callbacks_wrote():
    tab = DashSession(LAYOUT, parse_dependencies(DEPS))
    live = {"key": {"sid": "s", "v": 1}, "full": True, "delta": {"header": {"value": "₿1"}}}
    apply_clientside(tab.props, {"dashboard-live": {"data": live}})
    tab.prune(("tick", "n"))
    assert tab.props[("portfolio-value-btc", "children")] == "₿1"  # the load test checks it
    assert tab.props[("dashboard-view-key", "data")] == {"sid": "s", "v": 1}


def test_clientside_mirror_applies_a_snapshot_delta_like_apply_delta():
    props = {SNAPSHOT: {"header": {"value": "₿1", "usd": "$1"}, "cards": {"BTC": ["a", "b"]}}}
    updates = {"dashboard-live-delta": {"data": {"header": {"value": "₿2"},
                                                 "cards": {"BTC": {"1": "c"}}}}}
    apply_clientside(props, updates)
    assert props[SNAPSHOT] == {"header": {"value": "₿2", "usd": "$1"},
                               "cards": {"BTC": ["a", "c"]}}
    assert not full_render(updates)
    full = {"dashboard-snapshot": {"data": {"header": {"value": "₿3"}}}, **updates}
    props[SNAPSHOT] = full["dashboard-snapshot"]["data"]
    apply_clientside(props, full)  # a full render's snapshot is not merged again
    assert props[SNAPSHOT] == {"header": {"value": "₿3"}} and full_render(full)


def test_clientside_mirror_spreads_the_live_update_and_keeps_its_keys():
    table = {"type": "Div", "namespace": "h", "props": {"children": "buy 1 ETH"}}
    live = {"key": {"sid": "s1", "v": 4}, "delta": {"header": {"value": "₿2", "updated": "now"}},
            "rebalance": [table, "ab12"], "fill": None}
    props = {("portfolio-value-btc", "children"): "₿1", ("dashboard-history-fill", "children"): "x"}
    updates = {"dashboard-live": {"data": live}}
    apply_clientside(props, updates)
    assert props[("dashboard-view-key", "data")] == {"sid": "s1", "v": 4}
    assert props[("dashboard-rebalance-key", "data")] == "ab12"
    assert props[("dashboard-rebalance-table", "children")] == table
    assert props[("portfolio-value-btc", "children")] == "₿2"
    assert props[("last-updated", "children")] == "now"
    assert props[("dashboard-history-fill", "children")] is None
    assert not full_render(updates)
    assert full_render({"dashboard-live": {"data": {**live, "full": True}}})
    before = dict(props)
    apply_clientside(props, {"dashboard-live": {"data": None}})  # no update: nothing changes
    assert props == before


def test_mirrored_clientside_callback_fills_the_state_a_refresh_sends():
    deps = [{"output": "params.data", "inputs": [{"id": i, "property": "value"} for i in
                                                 ("t", "m", "meth", "ac", "cc")],
             "state": [], "clientside_function": {"namespace": "btcfolio",
                                                  "function_name": "rebalanceParams"}},
            {"output": "live.data", "inputs": [{"id": "tick", "property": "n"}],
             "state": [{"id": "params", "property": "data"}], "prevent_initial_call": False}]
    page = {"type": "Div", "namespace": "h", "props": {"children": [
        {"type": "Store", "namespace": "d", "props": {"id": "params"}},
        {"type": "Interval", "namespace": "d", "props": {"id": "tick", "n": 0}}]}}
    tab = DashSession(page, parse_dependencies(deps), parse_clientside(deps))
    assert tab.props.get(("params", "data")) is None  # its inputs are not rendered yet
    panel = {"type": "Div", "namespace": "h", "props": {"children": [
        {"type": "Input", "namespace": "d", "props": {"id": i, "value": v}}
        for i, v in (("t", 50), ("m", None), ("meth", "min_var"), ("ac", 25), ("cc", 40))]}}
    tab.register(panel)
    body = tab.body(tab.callbacks[0], [("tick", "n")])
    assert body["state"][0]["value"] == {"target": 50, "mix": False, "method": "min_var",
                                         "asset_cap": 25, "category_cap": 40}
