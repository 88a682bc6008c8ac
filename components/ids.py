"""Every component id, page-prefixed where it is page-specific (ids named in the issues kept as is)."""

PORTFOLIO_VALUE_BTC = "portfolio-value-btc"
LAST_UPDATED = "last-updated"
DASHBOARD_ASSETS = "dashboard-assets"
