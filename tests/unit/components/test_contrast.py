"""WCAG AA of the dashboard's own colours, computed from assets/style.css in light and dark.

Text (badges, alerts) needs 4.5:1 against its background; controls (switches, radios: WCAG
1.4.11) 3:1 against the surface they sit on, for the on fill, the off outline and the knob.
A colour edited in the stylesheet that breaks AA fails here; the browser test checks the same
pairs as rendered (tests/browser/test_responsive.py).
"""

from __future__ import annotations

import re

import pytest

from components.figures import PALETTE
from tests.support.wcag import STYLE, contrast, palettes, parse_css_colour

TEXT, CONTROL = 4.5, 3.0
# Text pairs --bf-X-fg on --bf-X-bg that the dashboard uses (badges: DEMO and stale are
# warning, SAMPLE / category / held are neutral, buy success, sell danger; alerts alike).
TEXT_PAIRS = ("warning", "neutral", "success", "danger", "info", "dark-btn")
# (what, the colour that shows the control or its state, what it is drawn on).
CONTROL_PAIRS = (
    ("navbar switch on", "--bf-nav-switch-on", "--bf-navbar-bg"),
    ("navbar switch off outline", "--bf-nav-switch-off", "--bf-navbar-bg"),
    ("navbar knob off", "--bf-nav-knob-off", "--bf-navbar-bg"),  # the off track is see-through
    ("navbar knob on", "--bf-nav-knob-on", "--bf-nav-switch-on"),
    ("switch / radio on", "--bf-switch-on", "--bf-card-bg"),
    ("switch / radio off outline", "--bf-switch-off", "--bf-card-bg"),
    ("knob off", "--bf-knob-off", "--bf-card-bg"),
    ("knob on", "--bf-knob-on", "--bf-switch-on"),
    ("radio dot", "--bf-radio-dot", "--bf-switch-on"),
)


@pytest.fixture(scope="module")
def css() -> str:
    return STYLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module", params=["light", "dark"])
def palette(request, css) -> dict[str, str]:
    return palettes(css)[request.param]


def test_contrast_matches_wcag_reference_values():
    white, black = (255.0, 255.0, 255.0), (0.0, 0.0, 0.0)
    assert contrast(white, black) == pytest.approx(21.0)
    assert contrast(black, white) == contrast(white, black)
    assert contrast(white, white) == pytest.approx(1.0)
    # #767676 is the lightest grey with 4.5:1 on white, #777777 just misses it.
    assert contrast(parse_css_colour("#767676"), white) >= 4.5 > contrast(
        parse_css_colour("#777"), white)


def test_parse_css_colour_reads_hex_rgb_and_svg_knobs():
    assert parse_css_colour("#2c3e50") == parse_css_colour("rgb(44, 62, 80)") == (44, 62, 80)
    assert parse_css_colour("#fff") == parse_css_colour("rgba(255, 255, 255, 1)")
    knob = ("url(\"data:image/svg+xml,%3csvg xmlns='http://www.w3.org/2000/svg'%3e"
            "%3ccircle r='3' fill='%237b8a8b'/%3e%3c/svg%3e\")")
    assert parse_css_colour(knob) == (123, 138, 139)
    with pytest.raises(ValueError, match="opaque"):
        parse_css_colour("rgba(0, 0, 0, 0.25)")


def test_both_themes_declare_the_surfaces(css):
    themes = palettes(css)
    for name in ("--bf-navbar-bg", "--bf-card-bg", "--bf-switch-on"):
        assert themes["light"][name] != themes["dark"][name], name


@pytest.mark.parametrize("name", TEXT_PAIRS)
def test_text_on_badges_and_alerts_meets_aa(palette, name):
    fg, bg = palette[f"--bf-{name}-fg"], palette[f"--bf-{name}-bg"]
    assert contrast(parse_css_colour(fg), parse_css_colour(bg)) >= TEXT, (name, fg, bg)


def test_every_text_colour_in_the_palette_is_checked(palette):
    """A new --bf-X-fg (or -bg) without its partner, or not in TEXT_PAIRS, fails."""
    names = {m.group(1) for v in palette if (m := re.fullmatch(r"--bf-(.+)-(?:fg|bg)", v))}
    assert names - {"navbar", "card"} == set(TEXT_PAIRS)


@pytest.mark.parametrize(("what", "mark", "surface"), CONTROL_PAIRS)
def test_switches_and_radios_meet_aa_against_their_surface(palette, what, mark, surface):
    ratio = contrast(parse_css_colour(palette[mark]), parse_css_colour(palette[surface]))
    assert ratio >= CONTROL, (what, palette[mark], palette[surface], round(ratio, 2))


def test_every_palette_colour_is_used_by_a_rule(css):
    """The palette is what the page is painted with: each variable is read somewhere."""
    for name in palettes(css)["light"]:
        assert f"var({name})" in css, name


def test_chart_colours_stand_out_from_the_card_in_both_themes(css):
    """Lines and slices are graphics (WCAG 1.4.11): 3:1 against the card, light and dark.

    Bitcoin orange (BTC's own slice and line, 2.2:1 on white) is the one exception: it is
    the brand colour, and BTC is always labelled in the legend and the hover."""
    for theme, palette in palettes(css).items():
        card = parse_css_colour(palette["--bf-card-bg"])
        for colour in PALETTE:
            assert contrast(parse_css_colour(colour), card) >= CONTROL, (theme, colour)
    assert len(set(PALETTE)) == len(PALETTE)


def test_green_buttons_are_white_on_an_aa_green_in_every_state(css, palette):
    # Flatly's .btn-success is white on #18bc9c (2.4:1): "+ Add" must use an AA green,
    # including its hover/active shade, in both themes.
    block = re.search(r"\.btn-success\s*\{([^}]*)\}", css)
    assert block, "no .btn-success rule in assets/style.css"
    props = dict(re.findall(r"(--bs-btn-[\w-]+)\s*:\s*([^;]+);", block.group(1)))

    def value(name: str) -> str:
        raw = props[name].strip()
        ref = re.fullmatch(r"var\((--[\w-]+)\)", raw)
        return palette[ref.group(1)] if ref else raw

    for bg in ("--bs-btn-bg", "--bs-btn-hover-bg", "--bs-btn-active-bg"):
        fg = "--bs-btn-hover-color" if bg != "--bs-btn-bg" else "--bs-btn-color"
        assert contrast(parse_css_colour(value(fg)), parse_css_colour(value(bg))) >= TEXT, bg
