"""Every dashboard panel has a short info tooltip."""

from __future__ import annotations

import re

from components.info import PANEL_INFO, info_id, info_tip
from components.layout import panels


def _walk(node):
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            yield from _walk(child)


def _headers(tree) -> list:
    return [n for root in tree for n in _walk(root) if type(n).__name__ == "CardHeader"]


def test_every_panel_header_has_an_info_tooltip():
    headers = _headers(panels([30, 90]))
    assert len(headers) == 9
    for header in headers:
        title = next(c for c in header.children if isinstance(c, str))
        tips = [n for n in _walk(header) if type(n).__name__ == "Tooltip"]
        assert len(tips) == 1, title
        assert tips[0].target == info_id(title)
        assert 20 <= len(tips[0].children) <= 300, title     # short, but says something


def test_info_ids_are_unique_and_valid():
    ids = [info_id(t) for t in PANEL_INFO]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"info-[a-z0-9-]+", i) for i in ids)


def test_info_icon_is_focusable_and_labelled():
    icon = info_tip("Allocation", "Share per asset.").children[0]
    assert icon.tabIndex == "0"
    assert icon.to_plotly_json()["props"]["aria-label"] == "About Allocation: Share per asset."
