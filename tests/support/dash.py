"""Drive Dash callbacks over HTTP as the browser would (no browser), and read their answers."""

from __future__ import annotations

import csv
import io
import json

from components import ids


def _dash_id(text: str):
    """A component id as Dash serialises it: plain string, or JSON of a pattern-matching id."""
    return json.loads(text) if text.startswith("{") else text


def _outputs(spec: str) -> list[dict]:
    """Dash's "outputs" list from a dependency's output string (``..a.p...b.q..`` or ``a.p``)."""
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    return [{"id": _dash_id(cid), "property": prop}
            for cid, prop in (part.rsplit(".", 1) for part in parts)]


def dash_callback(client, first_input: str, *, inputs=None, state=None):
    """POST /_dash-update-component for the callback whose first input is ``first_input``.

    ``inputs`` / ``state``: {(component id, property): value}; a pattern-matching id is given as
    its JSON text (an ALL input then gets the value list-wrapped, as the renderer sends it).
    Inputs and state not given are sent as None. What the browser would send, without a browser.
    """
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if d["inputs"] and str(d["inputs"][0]["id"]) == first_input)
    inputs, state = inputs or {}, state or {}

    def entries(declared, given):
        out = []
        for item in declared:
            if str(item["id"]).startswith("{"):  # pattern (ALL): the concrete ids are given
                out.append([{"id": _dash_id(cid), "property": prop, "value": value}
                            for (cid, prop), value in given.items()])
            else:
                out.append({"id": item["id"], "property": item["property"],
                            "value": given.get((item["id"], item["property"]))})
        return out

    body = {"output": dep["output"], "outputs": _outputs(dep["output"]),
            "inputs": entries(dep["inputs"], inputs), "state": entries(dep["state"], state),
            "changedPropIds": [f"{cid}.{prop}" for cid, prop in inputs]}
    if len(body["outputs"]) == 1 and not dep["output"].startswith(".."):
        body["outputs"] = body["outputs"][0]
    return client.post("/_dash-update-component", data=json.dumps(body),
                       content_type="application/json")


# What assets/live.js (btcfolio.applyLive) writes where: header field -> (component, property).
HEADER_OUTPUTS = {
    ("value", None): (ids.PORTFOLIO_VALUE_BTC, "children"),
    ("usd", None): (ids.HEADER_VALUE_USD, "children"),
    ("alloc", None): (ids.HEADER_BTC_ALLOCATION, "children"),
    ("change", 0): (ids.HEADER_CHANGE_24H, "children"),
    ("change", 1): (ids.HEADER_CHANGE_24H, "className"),
    ("updated", None): (ids.LAST_UPDATED, "children"),
}


def header_value(client) -> dict:
    """The dashboard header after one refresh tick of a new tab (sats off), by component id.

    The refresh answers one live update (``dashboard-live.data``); a new tab gets a full render
    whose header the browser writes into the components of ``HEADER_OUTPUTS``.
    """
    resp = dash_callback(client, ids.REFRESH_INTERVAL, inputs={
        (ids.REFRESH_INTERVAL, "n_intervals"): 1, (ids.SATS_TOGGLE, "value"): False,
        (ids.HOLDINGS_VERSION, "data"): None})
    assert resp.status_code == 200, resp.data[:300]
    (live,) = (props["data"] for props in resp.get_json()["response"].values())
    header = live["delta"]["header"]
    shown: dict[str, dict] = {}
    for (field, item), (component, prop) in HEADER_OUTPUTS.items():
        shown.setdefault(component, {})[prop] = (header[field] if item is None
                                                 else header[field][item])
    return shown


def csv_rows(client) -> dict[str, dict]:
    """The CSV export's rows by symbol."""
    resp = dash_callback(client, ids.EXPORT_CSV, inputs={(ids.EXPORT_CSV, "n_clicks"): 1})
    content = resp.get_json()["response"][ids.EXPORT_DOWNLOAD]["data"]["content"]
    return {row["symbol"]: row for row in csv.DictReader(io.StringIO(content))}
