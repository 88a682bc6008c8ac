"""The dashboard at 1,000 held assets (issue 17.4): the first render, the refresh and the
heatmap work, with cards paged and totals over every holding. A generated universe
(benchmarks/dataset.py: real price paths shifted in time) in a temporary store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from benchmarks.dataset import build_store, quote_tick
from components.dashboard_view import PER_PAGE
from components.format import fmt_btc
from queries.context import ReadContext
from queries.valuation import current_valuation
from tests.support.dashboard_page import header, page_params, refresh

N_ASSETS = 1000


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("thousand"), N_ASSETS, years=1)


@pytest.fixture
def page(store):
    from app import create_app

    clock = {"now": datetime.now(timezone.utc)}
    create_app(store.settings, store.repo, clock=lambda: clock["now"])
    import pages.dashboard as dashboard
    dashboard.test_clock = clock
    return dashboard


def test_first_render_and_refresh_at_1000_assets(page, store):
    held = store.repo.load_holdings(store.settings.portfolio.name)
    assert len(held) == N_ASSETS
    first = refresh(page, params=page_params(50))
    assert first["pages"] == -(-N_ASSETS // PER_PAGE) and len(first["cards"]) == PER_PAGE
    total = current_valuation(ReadContext(store.repo, store.settings,
                                          page.test_clock["now"])).total_btc
    assert header(first)["value"] == fmt_btc(total)  # totals over all 1,000, not the page
    assert first["rebalance"][1]
    # A tick with new quotes: only the changed texts of the 24 cards shown.
    page.test_clock["now"] += timedelta(seconds=30)
    quote_tick(store, 1, page.test_clock["now"])
    second = refresh(page, first["key"], tick=1, params=page_params(50),
                     rebalance_key=first["rebalance"][1])
    assert "cards" not in second and set(second["delta"]["cards"]) <= set(
        sorted(held)[:PER_PAGE])
    # The last page holds the rest; its totals are the same.
    last = refresh(page, second["key"], tick=2, cards_page=first["pages"])
    assert last["full"] is True and len(last["cards"]) == N_ASSETS - PER_PAGE * (
        first["pages"] - 1)
    assert header(last)["value"] == header(second).get("value", header(last)["value"])


def test_heatmap_at_1000_assets_is_the_held_top_30_and_the_full_matrix_on_demand(page):
    fig, _panel, _note, ranking = page.update_correlation(90, "light", False)
    assert len(fig.data[0].x) == 30 and fig.data[0].x[0] == "BTC"
    assert len(ranking.children[1].children) == 29  # the phone list: the same assets, BTC aside
    full, _panel, _note, _ranking = page.update_correlation(90, "light", True)
    assert len(full.data[0].x) == N_ASSETS and full.data[0].text is None
