"""The page shown for an unknown address (HTTP 404 is set by serving.install_not_found_status)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

dash.register_page(__name__, path="/404", title="Page not found · btcfolio")

DASHBOARD_PATH = "/portfolio/dashboard"


def layout(**_kwargs) -> dbc.Container:
    """A short message and a link back to the dashboard."""
    return dbc.Container([
        html.H1("Page not found", className="h3 mt-5"),
        html.P("There is no page at this address. Your portfolio is on the dashboard."),
        dbc.Button("Back to the dashboard", href=DASHBOARD_PATH, color="primary",
                   id="not-found-back"),
    ], className="py-4")
