"""A minimal Dash browser for load tests: what the dash renderer sends and keeps, without a DOM.

One :class:`DashSession` plays one browser tab: it keeps every component prop it has seen (from
``/_dash-layout``, the pages routing callback and callback responses, with ``Patch`` updates
applied), and builds ``/_dash-update-component`` bodies from ``/_dash-dependencies`` exactly as
the renderer does (``output``, ``outputs``, ``inputs``/``state`` with their current values,
``changedPropIds``). So a refresh carries the State the previous response left behind.
Pattern-matching callbacks are not modelled (the load test never fires them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PropKey = tuple[str, str]  # (component id, property)
PATCH_MARK = "__dash_patch_update"


class ProtocolError(Exception):
    """A response that a browser could not apply (bad JSON shape, unknown patch operation)."""


@dataclass(frozen=True)
class Callback:
    """One server-side callback of /_dash-dependencies."""

    output: str                    # the renderer's output key, sent back verbatim
    outputs: tuple[PropKey, ...]   # property may carry an "@hash" (allow_duplicate)
    inputs: tuple[PropKey, ...]
    state: tuple[PropKey, ...]
    prevent_initial_call: bool

    @property
    def multi(self) -> bool:
        """Whether the callback has several outputs (Dash's ``..a.b...c.d..`` key)."""
        return self.output.startswith("..")

    def triggered_by(self, key: PropKey) -> bool:
        """Whether a change of ``key`` fires this callback."""
        return key in self.inputs


def _split_prop(text: str) -> PropKey:
    component, prop = text.rsplit(".", 1)
    return component, prop


def parse_dependencies(deps: list[dict[str, Any]]) -> list[Callback]:
    """The server callbacks (clientside and pattern-matching ones left out)."""
    callbacks = []
    for dep in deps:
        if dep.get("clientside_function"):
            continue
        output = dep["output"]
        parts = output[2:-2].split("...") if output.startswith("..") else [output]
        ids = [d["id"] for d in dep["inputs"] + dep.get("state", [])]
        if any(part.startswith("{") for part in parts) or any(i.startswith("{") for i in ids):
            continue
        callbacks.append(Callback(
            output=output, outputs=tuple(_split_prop(p) for p in parts),
            inputs=tuple((d["id"], d["property"]) for d in dep["inputs"]),
            state=tuple((d["id"], d["property"]) for d in dep.get("state", [])),
            prevent_initial_call=bool(dep.get("prevent_initial_call"))))
    return callbacks


@dataclass(frozen=True)
class Clientside:
    """A clientside callback with a single, string-id output that ``CLIENTSIDE`` mirrors."""

    function: str
    output: PropKey
    inputs: tuple[PropKey, ...]


# Python mirrors of clientside functions whose output a server callback reads as State.
CLIENTSIDE: dict[str, Any] = {
    # btcfolio.rebalanceParams (issue 17): the rebalance panel's inputs as one value.
    "rebalanceParams": lambda target, mix, method, asset_cap, category_cap: {
        "target": target, "mix": bool(mix), "method": method, "asset_cap": asset_cap,
        "category_cap": category_cap},
}


def parse_clientside(deps: list[dict[str, Any]]) -> list[Clientside]:
    """The clientside callbacks of /_dash-dependencies that have a mirror in ``CLIENTSIDE``."""
    out = []
    for dep in deps:
        function = (dep.get("clientside_function") or {}).get("function_name")
        if function not in CLIENTSIDE or dep["output"].startswith(("..", "{")):
            continue
        out.append(Clientside(function, _split_prop(dep["output"]),
                              tuple((d["id"], d["property"]) for d in dep["inputs"])))
    return out


def iter_components(tree: Any) -> Iterator[dict[str, Any]]:
    """Every serialised component ({"type", "namespace", "props"}) in a layout value."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "props" in node and "type" in node:
                yield node
                stack.extend(node["props"].values())
            else:
                stack.extend(node.values())


def _walk(target: Any, location: list) -> Any:
    for step in location:
        target = target[step]
    return target


def apply_patch(value: Any, patch: dict[str, Any]) -> Any:
    """Apply a serialised dash ``Patch`` to ``value`` in place (the renderer's operations)."""
    result = value
    for op in patch["operations"]:
        name, location, params = op["operation"], op["location"], op.get("params", {})
        if not location:
            if name == "Assign":
                result = params["value"]
                continue
            if name == "Merge":
                result = {**(result or {}), **params["value"]}
                continue
        try:
            if name in ("Assign", "Delete"):
                parent, last = _walk(result, location[:-1]), location[-1]
                if name == "Assign":
                    parent[last] = params["value"]
                elif isinstance(parent, dict):
                    parent.pop(last, None)
                else:
                    del parent[last]
            elif name == "Merge":
                _walk(result, location).update(params["value"])
            elif name in ("Append", "Extend"):
                target = _walk(result, location)
                target.extend([params["value"]] if name == "Append" else params["value"])
            else:
                raise ProtocolError(f"patch operation {name} is not modelled")
        except (KeyError, IndexError, TypeError) as exc:
            raise ProtocolError(f"patch {name} at {location} does not apply: {exc!r}") from exc
    return result


# The page's clientside callbacks that later requests depend on, mirrored (ids as strings, so
# this works on either refresh protocol):
# * snapshot + delta (before issue 17): btcfolio.applyDelta merges ``dashboard-live-delta`` into
#   the ``dashboard-snapshot`` store, which the next tick sends up as State;
# * server-side view state (issue 17): btcfolio.applyLive spreads ``dashboard-live`` over the
#   page: the view key and the rebalance key (the next tick's State), the header texts, the
#   banner and the history-fill line.
SNAPSHOT, LIVE_DELTA, LIVE = ("dashboard-snapshot", "data"), ("dashboard-live-delta", "data"), \
    ("dashboard-live", "data")
VIEW_KEY, REBALANCE_KEY = ("dashboard-view-key", "data"), ("dashboard-rebalance-key", "data")
REBALANCE_TABLE = ("dashboard-rebalance-table", "children")
LIVE_TARGETS = {"banner": ("dashboard-status-banner", "children"),
                "fill": ("dashboard-history-fill", "children")}
INTERVAL = ("dashboard-refresh-interval", "n_intervals")
# The refresh callback (update_dashboard) writes one of these: the header value directly (before
# issue 17) or the live store that the clientside applyLive spreads over the page (after).
REFRESH_CALLBACK_OUTPUTS = (("portfolio-value-btc", "children"), ("dashboard-live", "data"))
LIVE_HEADER = {"value": "portfolio-value-btc", "usd": "dashboard-value-usd",
               "alloc": "dashboard-btc-allocation", "updated": "last-updated"}


# Every prop apply_clientside writes.
MIRRORED = frozenset({SNAPSHOT, VIEW_KEY, REBALANCE_KEY, REBALANCE_TABLE, *LIVE_TARGETS.values(),
                      *((cid, "children") for cid in LIVE_HEADER.values())})


def apply_clientside(props: dict[PropKey, Any], updates: dict[str, dict[str, Any]]) -> None:
    """What the page's clientside callbacks do with a refresh answer (see above)."""
    delta = updates.get(LIVE_DELTA[0], {}).get(LIVE_DELTA[1])
    if delta is not None and SNAPSHOT[0] not in updates:
        from components.dashboard_view import apply_delta

        props[SNAPSHOT] = apply_delta(props.get(SNAPSHOT) or {}, delta)
    live = updates.get(LIVE[0], {}).get(LIVE[1])
    if not isinstance(live, dict):
        return
    if "key" in live:
        props[VIEW_KEY] = live["key"]
    if isinstance(live.get("rebalance"), list) and len(live["rebalance"]) == 2:
        props[REBALANCE_TABLE], props[REBALANCE_KEY] = live["rebalance"]
    for name, target in LIVE_TARGETS.items():
        if name in live:
            props[target] = live[name]
    header = (live.get("delta") or {}).get("header") or {}
    for name, target in LIVE_HEADER.items():
        if name in header:
            props[(target, "children")] = header[name]


def is_refresh(cb: Callback) -> bool:
    """Whether ``cb`` is the dashboard's refresh callback (``update_dashboard``)."""
    return cb.triggered_by(INTERVAL) and any(
        (cid, prop.split("@")[0]) in REFRESH_CALLBACK_OUTPUTS for cid, prop in cb.outputs)


def full_render(updates: dict[str, dict[str, Any]]) -> bool:
    """Whether a refresh answer re-rendered everything (the snapshot, or ``live.full``)."""
    live = updates.get(LIVE[0], {}).get(LIVE[1])
    return SNAPSHOT[0] in updates or (isinstance(live, dict) and live.get("full") is True)


class DashSession:
    """The props one browser tab holds, and the request bodies it would send."""

    def __init__(self, layout: Any, callbacks: list[Callback],
                 clientside: list[Clientside] | tuple[Clientside, ...] = ()) -> None:
        self.callbacks = callbacks
        self.clientside = tuple(clientside)
        self.props: dict[PropKey, Any] = {}
        self.ids: set[str] = set()
        self.register(layout)

    def register(self, tree: Any) -> None:
        """Remember the props of every component with a (string) id in ``tree``."""
        for component in iter_components(tree):
            cid = component["props"].get("id")
            if isinstance(cid, str):
                self.ids.add(cid)
                for prop, value in component["props"].items():
                    self.props[(cid, prop)] = value
        self.run_clientside()

    def run_clientside(self) -> None:
        """The mirrored clientside callbacks whose inputs are all rendered (see CLIENTSIDE)."""
        for cs in self.clientside:
            if cs.output[0] in self.ids and all(cid in self.ids for cid, _ in cs.inputs):
                self.props[cs.output] = CLIENTSIDE[cs.function](
                    *(self.props.get(key) for key in cs.inputs))

    def prune(self, trigger: PropKey) -> None:
        """Forget the props no later request can carry.

        Kept: every callback's inputs and State, and the outputs of the callbacks ``trigger``
        fires (what a tick updates and checks).

        A thousand simulated tabs would otherwise each hold their page's figures in memory.
        """
        keep = {key for cb in self.callbacks for key in cb.inputs + cb.state}
        keep.update(key for cs in self.clientside for key in (cs.output, *cs.inputs))
        keep.update(MIRRORED)  # what apply_clientside writes (the header value is checked)
        keep.update((cid, prop.split("@")[0]) for cb in self.callbacks
                    if cb.triggered_by(trigger) for cid, prop in cb.outputs)
        self.props = {k: v for k, v in self.props.items() if k in keep}

    def callback_for(self, output_key: PropKey) -> Callback:
        """The callback writing ``output_key`` (a ``(id, property)`` without ``@hash``)."""
        for cb in self.callbacks:
            if any((cid, prop.split("@")[0]) == output_key for cid, prop in cb.outputs):
                return cb
        raise LookupError(f"no callback outputs {output_key}")

    def initial_callbacks(self) -> list[Callback]:
        """Callbacks the renderer fires on page load: inputs and outputs rendered, no prevent."""
        return [cb for cb in self.callbacks if not cb.prevent_initial_call
                and all(cid in self.ids for cid, _ in cb.inputs + cb.outputs)]

    def body(self, cb: Callback, changed: list[PropKey]) -> dict[str, Any]:
        """The JSON body of /_dash-update-component for ``cb`` (changed: triggering props)."""
        def values(keys):
            return [{"id": cid, "property": prop, "value": self.props.get((cid, prop))}
                    for cid, prop in keys]

        outputs = [{"id": cid, "property": prop} for cid, prop in cb.outputs]
        changed_ids = [f"{cid}.{prop}" for cid, prop in changed]
        body = {"output": cb.output, "outputs": outputs if cb.multi else outputs[0],
                "inputs": values(cb.inputs), "changedPropIds": changed_ids,
                "parsedChangedPropsIds": changed_ids}
        if cb.state:
            body["state"] = values(cb.state)
        return body

    def apply(self, cb: Callback, status: int, payload: bytes) -> dict[str, dict[str, Any]]:
        """Apply a response as the renderer does; return {id: {prop: value}} (204: nothing)."""
        if status == 204:
            return {}
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise ProtocolError(f"response is not JSON: {payload[:80]!r}") from exc
        if not isinstance(data, dict) or "response" not in data:
            raise ProtocolError(f"not a callback response: {payload[:80]!r}")
        if data.get("multi"):
            updates = data["response"]
        else:
            updates = {cb.outputs[0][0]: data["response"].get("props", {})}
        if not isinstance(updates, dict):
            raise ProtocolError("callback response is not an object")
        for cid, props in updates.items():
            for prop, value in props.items():
                key = (cid, prop)
                if isinstance(value, dict) and value.get(PATCH_MARK) == PATCH_MARK:
                    self.props[key] = apply_patch(self.props.get(key), value)
                    continue
                self.props[key] = value
                if prop == "children":
                    self.register(value)
        apply_clientside(self.props, updates)
        self.run_clientside()
        return updates
