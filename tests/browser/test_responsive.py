"""The dashboard at 390 px (a phone) and 1280 px, light and dark: geometry, not presence.

The viewport is set with CDP (Emulation.setDeviceMetricsOverride): headless chromium clamps
``set_window_size`` to a minimum width, so a "390 px" window would really be wider.

Each page is checked for
* no horizontal page overflow: the page does not scroll sideways and no visible element's
  right edge (clipped by its scrolling ancestors, e.g. a table inside its card) passes the
  viewport;
* no overlapping boxes: a Plotly legend never covers the plot area, the axis labels or the
  modebar; no two panels or cards overlap; the navbar's brand, badge and controls don't;
* the heatmap in its readable form: at 390 px the ranked correlation-to-BTC list and cells
  without text (a tap shows the value), at 1280 px the heatmap with its numbers;
* WCAG AA contrast from the rendered colours: badges and alerts 4.5:1 (text), switches and
  radios 3:1 against the surface they sit on, switched on and off.
"""

from __future__ import annotations

import re
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from app import create_app
from components import ids
from tests.support.wcag import contrast, parse_css_colour

pytestmark = pytest.mark.browser
PHONE, DESKTOP = 390, 1280
GRAPHS = (ids.HISTORY_CHART, ids.ALLOCATION_ASSET_CHART, ids.CORRELATION_HEATMAP,
          ids.ALLOCATION_CATEGORY_CHART, ids.DRIFT_CHART, ids.BACKTEST_CHART)

# Every visible element whose right edge, clipped by ancestors that clip or scroll sideways,
# lies past the viewport (a few described, for the failure message).
OVERFLOW_JS = """
const width = document.documentElement.clientWidth;
const clips = el => { const o = getComputedStyle(el).overflowX; return o !== 'visible'; };
const out = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || style.display === 'none') continue;
  let right = r.right, left = r.left;
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    if (clips(a)) { const ar = a.getBoundingClientRect(); right = Math.min(right, ar.right);
                    left = Math.max(left, ar.left); }
  }
  if (right > left && right > width + 1) {
    out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.getAttribute('class')} right=${right}`);
  }
}
const se = document.scrollingElement;
return {scrollWidth: se.scrollWidth, clientWidth: se.clientWidth, over: out.slice(0, 8),
        htmlX: getComputedStyle(document.documentElement).overflowX,
        bodyX: getComputedStyle(document.body).overflowX};
"""

# Boxes of one graph's parts (null when absent or not displayed).
GRAPH_BOXES_JS = """
const g = document.getElementById(arguments[0]);
const box = sel => {
  const e = g.querySelector(sel); if (!e) return null;
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || getComputedStyle(e).display === 'none') return null;
  return [r.left, r.top, r.right, r.bottom];
};
return {legend: box('g.legend'), plot: box('.nsewdrag') || box('.pielayer'),
        xticks: box('.xaxislayer-above'), modebar: box('.modebar'),
        container: box('.modebar-container')};
"""

PANEL_BOXES_JS = """
const boxes = [];
for (const sel of arguments[0]) for (const e of document.querySelectorAll(sel)) {
  const r = e.getBoundingClientRect();
  if (r.width && r.height) boxes.push([sel + ' ' + (e.id || e.textContent.slice(0, 30)),
                                      [r.left, r.top, r.right, r.bottom]]);
}
return boxes;
"""

# (element colour, background behind it) for badges, alerts, switches and radios.
COLOURS_JS = """
const behind = el => {
  for (let a = el.parentElement; a; a = a.parentElement) {
    const c = getComputedStyle(a).backgroundColor;
    if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c;
  }
  return getComputedStyle(document.body).backgroundColor;
};
const seen = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
const out = {text: [], controls: []};
for (const el of document.querySelectorAll('.badge, .alert')) if (seen(el)) {
  const s = getComputedStyle(el);
  out.text.push([el.id, el.textContent.trim().slice(0, 24), s.color, s.backgroundColor]);
}
for (const el of document.querySelectorAll('.form-check-input')) if (seen(el)) {
  const s = getComputedStyle(el);
  out.controls.push([el.id, el.checked, s.backgroundColor, s.borderTopColor, behind(el)]);
}
return out;
"""


def _overlap(a, b, slack: float = 0.5) -> bool:
    return (min(a[2], b[2]) - max(a[0], b[0]) > slack
            and min(a[3], b[3]) - max(a[1], b[1]) > slack)


def _load(dash_duo, width: int, theme: str) -> None:
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 768})
    driver.get(f"{dash_duo.server_url}/portfolio/dashboard?theme={theme}")
    dash_duo.wait_for_element(".asset-card", timeout=45)  # a busy 2-core CI machine
    for graph in GRAPHS:  # every chart drawn (a trace, a pie or the heatmap)
        dash_duo.wait_for_element(f"#{graph} .trace, #{graph} .slice, #{graph} .hm",
                                  timeout=30)
    dash_duo.wait_for_element(f"#{ids.REBALANCE_TABLE} table tbody tr", timeout=30)
    dash_duo.wait_for_element(f"#{ids.MIX_TABLE} table", timeout=30)
    dash_duo.wait_for_element(f"#{ids.CORRELATION_RANKING} .correlation-row", timeout=30)
    assert driver.execute_script("return window.innerWidth") == width
    assert driver.find_element("tag name", "html").get_attribute("data-bs-theme") == theme
    time.sleep(1.0)  # responsive graphs settle at the new width


def _check_overflow(dash_duo) -> None:
    page = dash_duo.driver.execute_script(OVERFLOW_JS)
    # Hiding overflow on the page would only mask it.
    assert page["htmlX"] in ("visible", "auto") and page["bodyX"] in ("visible", "auto")
    assert page["scrollWidth"] <= page["clientWidth"], page
    assert page["over"] == [], page["over"]


def _check_graphs(dash_duo, width: int) -> None:
    for graph in GRAPHS:
        box = dash_duo.driver.execute_script(GRAPH_BOXES_JS, graph)
        assert box["plot"], graph
        if width == PHONE:  # a touch screen has no hover: no modebar left over the plot
            assert box["modebar"] is None and box["container"] is None, graph
        else:
            assert box["modebar"], graph
            assert not _overlap(box["modebar"], box["plot"]), (graph, box)
        if box["legend"]:
            assert not _overlap(box["legend"], box["plot"]), (graph, box)
            if box["xticks"]:
                assert not _overlap(box["legend"], box["xticks"]), (graph, box)
            if box["modebar"]:
                assert not _overlap(box["legend"], box["modebar"]), (graph, box)
    # The charts with a legend have one (the check above is not vacuous).
    for graph in (ids.HISTORY_CHART, ids.ALLOCATION_CATEGORY_CHART, ids.DRIFT_CHART):
        assert dash_duo.driver.execute_script(GRAPH_BOXES_JS, graph)["legend"], graph


def _check_panels(dash_duo) -> None:
    cards = dash_duo.driver.execute_script(PANEL_BOXES_JS, [".card"])
    nested = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.card .card')].length")
    assert nested == 0 and len(cards) >= 12
    for i, (name_a, a) in enumerate(cards):
        for name_b, b in cards[i + 1:]:
            assert not _overlap(a, b), (name_a, name_b)
    navbar = dash_duo.driver.execute_script(
        PANEL_BOXES_JS, [".navbar .brand-mark", ".navbar .navbar-brand", "#" + ids.DEMO_BADGE,
                         ".navbar .form-switch", "#" + ids.EXPORT_CSV,
                         "#dashboard-transactions-link"])
    assert len(navbar) == 7
    for i, (name_a, a) in enumerate(navbar):
        for name_b, b in navbar[i + 1:]:
            assert not _overlap(a, b), (name_a, name_b)


def _check_heatmap(dash_duo, width: int) -> None:
    driver = dash_duo.driver
    ranking = driver.find_element("id", ids.CORRELATION_RANKING)
    cell_texts = driver.execute_script(
        f"return [...document.querySelectorAll('#{ids.CORRELATION_HEATMAP} .heatmaplayer text')]"
        ".filter(t => t.getBoundingClientRect().width > 0).length")
    shown = driver.execute_script(  # the heatmap's assets (BTC and the held ones)
        f"return document.querySelector('#{ids.CORRELATION_HEATMAP} .js-plotly-plot')"
        ".data[0].x.length")
    assert shown >= 9
    if width == PHONE:
        assert ranking.is_displayed() and cell_texts == 0
        rows = driver.execute_script(
            "return [...arguments[0].querySelectorAll('.correlation-row')].map(r => "
            "[...r.children].map(c => { const b = c.getBoundingClientRect();"
            " return [b.left, b.top, b.right, b.bottom]; }))", ranking)
        assert len(rows) == shown - 1  # every shown asset but BTC
        for symbol, bar, value in rows:  # symbol, bar and number side by side, on screen
            assert not _overlap(symbol, bar) and not _overlap(bar, value)
            assert value[2] <= PHONE
        _tap_a_cell(dash_duo)
    else:
        assert not ranking.is_displayed()
        assert cell_texts == shown * shown  # every cell carries its number


def _tap_a_cell(dash_duo) -> None:
    """A tap on a text-free cell shows that cell's pair and value."""
    plot = dash_duo.find_element(f"#{ids.CORRELATION_HEATMAP} .nsewdrag")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", plot)
    size = plot.size
    # From the plot's centre towards its top left cell.
    ActionChains(dash_duo.driver).move_to_element(plot).move_by_offset(
        -size["width"] // 3, -size["height"] // 3).click().perform()
    hover = f"#{ids.CORRELATION_HEATMAP} .hoverlayer"
    dash_duo.wait_for_contains_text(hover, " × ", timeout=5)
    label = dash_duo.find_element(hover).text
    assert re.search(r"\w+ × \w+: (−|-)?\d\.\d\d", label), label


def _check_contrast(dash_duo) -> None:
    colours = dash_duo.driver.execute_script(COLOURS_JS)
    shown = {id_ for id_, *_ in colours["text"]} | {text for _, text, *_ in colours["text"]}
    assert {ids.DEMO_BADGE, "stale", "SAMPLE", "buy", "sell", "held"} <= shown
    for id_, text, fg, bg in colours["text"]:
        assert contrast(parse_css_colour(fg), parse_css_colour(bg)) >= 4.5, (id_, text, fg, bg)
    assert len(colours["controls"]) >= 10
    for name, checked, fill, border, surface in colours["controls"]:
        mark = fill if checked else border  # the on fill, or the off outline
        assert contrast(parse_css_colour(mark), parse_css_colour(surface)) >= 3, (
            name, checked, fill, border, surface)


@pytest.fixture
def demo_app(settings, repo, now):
    """The demo label on, at the sample's clock (fresh prices: a rebalance to show), holding
    MATIC too, whose series ended months before (its card carries the stale badge)."""
    repo.set_holding("MATIC", 10.0, settings.portfolio.name)
    return create_app(settings.model_copy(update={"demo": True}), repo, clock=lambda: now)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_resp001_readable_without_overflow_or_overlap(dash_duo, demo_app, width, theme):
    dash_duo.start_server(demo_app)
    _load(dash_duo, width, theme)
    _check_overflow(dash_duo)
    _check_graphs(dash_duo, width)
    _check_panels(dash_duo)
    _check_heatmap(dash_duo, width)
    _check_contrast(dash_duo)
    # Switched on, the navbar's toggles still stand out from the navbar (both themes).
    dash_duo.driver.execute_script(f"document.getElementById('{ids.SATS_TOGGLE}').click()")
    dash_duo.wait_for_contains_text(f"#{ids.PORTFOLIO_VALUE_BTC}", "sats", timeout=10)
    _check_contrast(dash_duo)
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_resp002_transactions_grid_scrolls_inside_its_box(dash_duo, settings, repo, width):
    dash_duo.start_server(create_app(settings, repo))
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 768})
    driver.get(f"{dash_duo.server_url}/portfolio/transactions")
    dash_duo.wait_for_element(f"#{ids.TX_GRID} .ag-row", timeout=45)
    time.sleep(0.5)
    _check_overflow(dash_duo)
    grid = driver.execute_script(
        "const g = document.getElementById(arguments[0]).getBoundingClientRect();"
        "const v = document.querySelector('#' + arguments[0] + ' .ag-center-cols-viewport');"
        "return {right: g.right, inner: v.scrollWidth, shown: v.clientWidth};", ids.TX_GRID)
    assert grid["right"] <= width
    # 14 columns never fit a phone: they scroll inside the grid, not the page.
    assert grid["inner"] > grid["shown"] if width == PHONE else grid["shown"] > 0
    assert dash_duo.get_logs() == []
