"""Dashboard callbacks for custom assets and the first run (registered by pages/dashboard.py).

``register_callbacks()`` is called by the page module, which Dash executes afresh for every app
it builds: a callback defined at this module's top level would reach only the first app.

Thin: read the form -> one data/ call (``data.ingest.custom_assets`` checks a new asset's ids with
the providers through the registry, short timeouts) -> builders. Never an HTTP call here.
"""

from __future__ import annotations

from datetime import datetime, timezone

import dash
from dash import Input, Output, State, callback, ctx

import services
from components import ids
from components.asset_admin import dropdown_options, form_body
from data.ingest.custom_assets import add_custom_asset
from data.store import first_run
from data.store.universe import AssetConflictError, effective_universe
from errors import DataError, InvalidInputError


def _now() -> datetime:
    return datetime.now(timezone.utc)


def register_callbacks() -> None:
    """Register the custom-asset and first-run callbacks with the app being built."""
    _register_custom_asset()
    _register_first_run()


def _register_custom_asset() -> None:
    @callback(Output(ids.CUSTOM_ERROR, "children"), Output(ids.CUSTOM_STATUS, "children"),
              Output(ids.ASSET_DROPDOWN, "options"), Output(ids.ASSET_DROPDOWN, "value"),
              Input(ids.CUSTOM_ADD_BUTTON, "n_clicks"),
              State(ids.CUSTOM_SYMBOL, "value"), State(ids.CUSTOM_COINGECKO, "value"),
              State(ids.CUSTOM_YAHOO, "value"), State(ids.CUSTOM_NAME, "value"),
              State(ids.CUSTOM_KIND, "value"), State(ids.CUSTOM_CATEGORY, "value"),
              prevent_initial_call=True)
    def update_add_custom_asset(_clicks, symbol, coingecko, yahoo, name, kind, category):
        """Check a new asset's ids, store it, and offer it in the dropdown (selected)."""
        repo, settings = services.repository(), services.settings()
        body = form_body(symbol, coingecko, yahoo, name, kind, category)
        try:
            added = add_custom_asset(repo, settings, body, now=_now())
            universe = effective_universe(settings, repo)
        except InvalidInputError as exc:
            return exc.detail, "", dash.no_update, dash.no_update
        except (AssetConflictError, DataError) as exc:
            return str(exc), "", dash.no_update, dash.no_update
        checked = (f"checked with {', '.join(added.probe.verified_by)}" if added.probe.verified_by
                   else "providers not reachable: saved as no data yet")
        status = (f"{added.symbol} — {added.name} added ({checked}); history backfill requested. "
                  "Enter a quantity and press Add.")
        return "", status, dropdown_options({s: a.name for s, a in universe.items()}), added.symbol



def _register_first_run() -> None:
    @callback(Output(ids.FIRST_RUN_EMPTY, "hidden"), Output(ids.FIRST_RUN_SAMPLE, "hidden"),
              Input(ids.HOLDINGS_VERSION, "data"))
    def update_first_run(_version):
        """Show the empty-portfolio choices, or the sample label, or nothing."""
        try:
            state = first_run.portfolio_state(services.repository(), services.settings())
        except DataError:
            return True, True
        return state != first_run.EMPTY, state != first_run.SAMPLE


    @callback(Output(ids.HOLDINGS_VERSION, "data", allow_duplicate=True),
              Output(ids.FIRST_RUN_STATUS, "children"),
              Input(ids.FIRST_RUN_START_SAMPLE, "n_clicks"),
              Input(ids.FIRST_RUN_CLEAR_SAMPLE, "n_clicks"),
              Input(ids.FIRST_RUN_KEEP_SAMPLE, "n_clicks"), prevent_initial_call=True)
    def update_sample_portfolio(_start, _clear, _keep):
        """Start from the sample, clear it, or keep it as the user's own."""
        repo, settings = services.repository(), services.settings()
        try:
            if ctx.triggered_id == ids.FIRST_RUN_START_SAMPLE:
                count = first_run.start_sample(repo, settings)
                text = f"Sample portfolio loaded ({count} holdings)."
            elif ctx.triggered_id == ids.FIRST_RUN_CLEAR_SAMPLE:
                text = f"Sample cleared ({len(first_run.clear_sample(repo, settings))} removed)."
            else:
                first_run.keep_sample(repo)
                text = "The holdings are yours now."
        except DataError as exc:
            return dash.no_update, str(exc)
        return _now().isoformat(), text
