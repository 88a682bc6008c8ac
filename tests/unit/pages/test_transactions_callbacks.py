"""Transactions page callbacks as plain functions: forged and bad inputs store nothing."""

from __future__ import annotations

import base64
from contextvars import copy_context

import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

from app import create_app
from components.transactions_view import FORM_FIELDS
from data.store import ledger_store
from tests.support.ledger import LEDGER_CSV


@pytest.fixture
def page(settings, repo):
    create_app(settings, repo)
    import pages.transactions as transactions
    return transactions


def _add(page, kind, **fields):
    """Run update_add_entry with the form's pattern-matching states."""
    names = ["date", *FORM_FIELDS]
    states = [{"id": {"type": "transactions-field", "field": n}, "property": "value"}
              for n in names]

    def run():
        context_value.set(AttributeDict(states_list=[{}, states, {}]))
        return page.update_add_entry(1, kind, [fields.get(n) for n in names], 0)

    return copy_context().run(run)


def test_add_entry_stores_a_trade_and_bumps_the_version(page, repo, settings):
    status, version = _add(page, "BUY", date="2025-08-01", asset="ETH", quantity="1",
                           price="4000", counter_asset="SOL", counter_quantity="99")
    assert "Stored" in str(status) and version == 1
    last = ledger_store.load_entries(repo, settings.portfolio.name)[-1]
    # Hidden fields of another type (counter_* belongs to TRADE) are not read for a BUY.
    assert (last.type, last.counter_asset, str(last.counter_quantity)) == ("TRADE", "USD", "4000")


@pytest.mark.parametrize(("kind", "fields"), [
    ("DEPOSIT", {"date": "2025-08-01", "asset": "DOGE", "quantity": "1"}),
    ("DEPOSIT", {"date": "2025-08-01", "asset": "ETH", "quantity": "-1"}),
    ("DEPOSIT", {"date": "<script>", "asset": "ETH", "quantity": "1"}),
    ("DEPOSIT", {"date": "2025-08-01", "asset": "ETH", "quantity": "=1+1"}),
    ("LIABILITY", {"date": "2025-08-01", "asset": "ETH", "quantity": "1"}),
    ("TRANSFER", {"date": "2025-08-01", "asset": "ETH", "quantity": "1"}),
    ("DEPOSIT", {"date": "2025-08-01", "asset": ["ETH"], "quantity": "1"}),
])
def test_add_entry_bad_input_shows_a_message_and_stores_nothing(page, repo, settings, kind,
                                                                fields):
    before = ledger_store.load_entries(repo, settings.portfolio.name)
    status, version = _add(page, kind, **fields)
    assert "text-danger" in str(status)
    assert version is not None and not isinstance(version, int)  # no_update
    assert ledger_store.load_entries(repo, settings.portfolio.name) == before


@pytest.mark.parametrize("selected", [None, [], [{"id": "1; DROP TABLE"}], [{"id": True}],
                                      ["x"], [{"id": 10**9}]])
def test_delete_forged_selection_deletes_nothing(page, repo, settings, selected):
    before = ledger_store.load_entries(repo, settings.portfolio.name)
    page.update_delete(1, selected, 0)
    assert ledger_store.load_entries(repo, settings.portfolio.name) == before


@pytest.mark.parametrize("contents", ["data:text/csv;base64,!!!", "no-comma",
                                      "data:text/csv;base64," + base64.b64encode(
                                          b"\xff\xfe").decode()])
def test_preview_refuses_undecodable_files(page, contents):
    preview, pending, confirm_class, _ = page.update_preview(contents, "UTC")
    assert pending is None and confirm_class == "d-none"
    assert "UTF-8" in str(preview)


def test_preview_then_confirm_imports_exactly_once(page, repo, settings):
    url = "data:text/csv;base64," + base64.b64encode(LEDGER_CSV.encode()).decode()
    before = len(ledger_store.load_entries(repo, settings.portfolio.name))
    preview, pending, confirm_class, label = page.update_preview(url, "Europe/Zurich")
    assert "8 new" in str(preview) and confirm_class == "" and label == "Import 8 entries"
    assert len(ledger_store.load_entries(repo, settings.portfolio.name)) == before
    page.update_confirm(1, pending, 0)
    page.update_confirm(2, pending, 1)  # a double click adds nothing more
    assert len(ledger_store.load_entries(repo, settings.portfolio.name)) == before + 8
