"""WCAG 2 contrast (relative luminance) and the colour palette of assets/style.css.

Shared by tests/unit/components/test_contrast.py (the palette as written) and
tests/browser/test_responsive.py (the colours as rendered).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

STYLE = Path(__file__).resolve().parents[2] / "assets" / "style.css"
LIGHT_SELECTOR = ':root, [data-bs-theme="light"]'
DARK_SELECTOR = '[data-bs-theme="dark"]'

RGB = tuple[float, float, float]


def parse_css_colour(text: str) -> RGB:
    """'#fff', '#2c3e50', 'rgb(1, 2, 3)', 'rgba(1, 2, 3, 1)' or a url() of an SVG whose one
    fill is such a colour (a switch knob) -> (r, g, b) in 0..255.

    Raises:
        ValueError: not one of these, or a colour that is not opaque (its contrast depends
            on what is behind it).
    """
    text = unquote(text.strip())
    if text.startswith("url("):
        fills = set(re.findall(r"fill='([^']+)'", text))
        if len(fills) != 1:
            raise ValueError(f"expected one fill colour in {text!r}")
        return parse_css_colour(fills.pop())
    if text.startswith("#"):
        digits = text[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        if len(digits) != 6:
            raise ValueError(f"not a #rgb/#rrggbb colour: {text!r}")
        return tuple(float(int(digits[i:i + 2], 16)) for i in (0, 2, 4))  # type: ignore[return-value]
    match = re.fullmatch(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:[,\s/]+([\d.]+))?\s*\)",
                         text)
    if not match:
        raise ValueError(f"not a colour: {text!r}")
    if match.group(4) is not None and float(match.group(4)) < 1:
        raise ValueError(f"not opaque: {text!r}")
    return tuple(float(match.group(i)) for i in (1, 2, 3))  # type: ignore[return-value]


def _channel(value: float) -> float:
    c = value / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb: RGB) -> float:
    """WCAG relative luminance (0 black … 1 white)."""
    r, g, b = (_channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio of two colours (1 … 21), order-free."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def css_blocks(css: str) -> list[tuple[str, str]]:
    """(selector, body) of every rule outside @-blocks' nesting, comments removed."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]


def palettes(css: str) -> dict[str, dict[str, str]]:
    """The --bf-* variables per theme: light as declared, dark = light + its overrides."""
    light: dict[str, str] = {}
    dark: dict[str, str] = {}
    for selector, body in css_blocks(css):
        declared = dict(re.findall(r"(--bf-[\w-]+)\s*:\s*([^;]+?)\s*;", body))
        if selector == LIGHT_SELECTOR:
            light.update(declared)
        elif selector == DARK_SELECTOR:
            dark.update(declared)
    return {"light": light, "dark": {**light, **dark}}
