"""First run: config.yaml's holdings seed only an empty store; the sample is labelled and clearable."""

from __future__ import annotations

import pytest

from data.store import first_run
from data.store.repository import Repository
from data.store.seed import SAMPLE_FLAG_KEY, init_portfolio, seed_store
from errors import InvalidInputError
from tests.support.sample import NOW, SAMPLE


@pytest.fixture
def empty(settings):
    repo = Repository.from_url(settings.store.url)
    seed_store(repo, SAMPLE, now=NOW)
    return repo


def test_config_holdings_seed_a_new_store_once_as_the_sample(settings, empty):
    assert init_portfolio(empty, settings.portfolio.holdings, settings.portfolio.name)
    assert empty.load_holdings(settings.portfolio.name) == settings.portfolio.holdings
    assert first_run.portfolio_state(empty, settings) == first_run.SAMPLE
    # A later start with other holdings in config.yaml changes nothing.
    assert not init_portfolio(empty, {"BTC": 9.0}, settings.portfolio.name)
    assert empty.load_holdings(settings.portfolio.name) == settings.portfolio.holdings


def test_config_holdings_never_touch_a_store_that_already_holds_assets(settings, empty):
    # A store from before the run-once guard existed, or filled by another tool.
    empty.set_holding("ETH", 2.0, settings.portfolio.name)
    assert not init_portfolio(empty, settings.portfolio.holdings, settings.portfolio.name)
    assert empty.load_holdings(settings.portfolio.name) == {"ETH": 2.0}
    assert first_run.portfolio_state(empty, settings) == first_run.OWN


def test_config_holdings_not_written_again_after_the_user_emptied_the_store(settings, empty):
    init_portfolio(empty, settings.portfolio.holdings, settings.portfolio.name)
    first_run.clear_sample(empty, settings)
    assert not init_portfolio(empty, settings.portfolio.holdings, settings.portfolio.name)
    assert first_run.portfolio_state(empty, settings) == first_run.EMPTY


def test_sample_start_clear_and_keep(settings, empty):
    assert first_run.portfolio_state(empty, settings) == first_run.EMPTY
    assert first_run.start_sample(empty, settings) == len(settings.portfolio.holdings)
    assert first_run.portfolio_state(empty, settings) == first_run.SAMPLE
    with pytest.raises(InvalidInputError, match="not empty"):
        first_run.start_sample(empty, settings)  # a second click never stacks samples
    # The user changed one sample holding and added one: clearing keeps both.
    empty.set_holding("BTC", 1.25, settings.portfolio.name)
    empty.set_holding("SLV", 3.0, settings.portfolio.name)
    removed = first_run.clear_sample(empty, settings)
    assert "BTC" not in removed and len(removed) == len(settings.portfolio.holdings) - 1
    assert empty.load_holdings(settings.portfolio.name) == {"BTC": 1.25, "SLV": 3.0}
    assert first_run.portfolio_state(empty, settings) == first_run.OWN


def test_keeping_the_sample_drops_its_label(settings, repo):
    assert first_run.portfolio_state(repo, settings) == first_run.SAMPLE
    first_run.keep_sample(repo)
    assert repo.get_meta(SAMPLE_FLAG_KEY) is None
    assert first_run.portfolio_state(repo, settings) == first_run.OWN


def test_sample_needs_holdings_in_config(settings, empty):
    bare = settings.model_copy(update={"portfolio": settings.portfolio.model_copy(
        update={"holdings": {}})})
    with pytest.raises(InvalidInputError, match="no sample holdings"):
        first_run.start_sample(empty, bare)
