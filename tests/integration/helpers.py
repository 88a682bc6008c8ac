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
