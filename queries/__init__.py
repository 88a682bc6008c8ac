"""The one read side: every number a page or an API route shows is read here (no Dash, no Flask).

Each function takes a ``ReadContext`` (store, settings and the one clock reading ``now`` of the
request) and returns plain values, frames or analytics records; ``pages/`` and ``webapi/``
only parse input, call these and render. Writes (holdings, ingest) are not here.
"""
