"""Every component id, page-prefixed where page-specific (ids named in the issues kept as is)."""

# Header (ids named in issue 6 are kept verbatim).
PORTFOLIO_VALUE_BTC = "portfolio-value-btc"
LAST_UPDATED = "last-updated"
DASHBOARD_ASSETS = "dashboard-assets"
HEADER_VALUE_USD = "dashboard-value-usd"
HEADER_BTC_ALLOCATION = "dashboard-btc-allocation"
HEADER_CHANGE_24H = "dashboard-change-24h"
STATUS_BANNER = "dashboard-status-banner"
HISTORY_FILL_STATUS = "dashboard-history-fill"
DEMO_BADGE = "dashboard-demo-badge"

# Controls and state.
REFRESH_INTERVAL = "dashboard-refresh-interval"
SATS_TOGGLE = "dashboard-sats-toggle"
DARK_TOGGLE = "dashboard-dark-toggle"
THEME_STORE = "dashboard-theme"
# The refresh (issue 17): the browser keeps only the key of its view; the server keeps the view.
VIEW_KEY = "dashboard-view-key"      # {"sid": session id, "v": version} of the view shown
LIVE_UPDATE = "dashboard-live"       # what one refresh sends, applied by btcfolio.applyLive
CARDS_PAGE = "dashboard-cards-page"  # the pager of the card grid (24 cards per page)
CARDS_PAGER = "dashboard-cards-pager"
REBALANCE_PARAMS = "dashboard-rebalance-params"  # target, mix switch, method, caps in one
HEATMAP_ALL = "dashboard-heatmap-all"  # the full correlation matrix instead of the held assets
HOLDINGS_VERSION = "dashboard-holdings-version"

# Asset selection (issue 6 ids).
ASSET_DROPDOWN = "asset-dropdown"
ASSET_QUANTITY = "asset-quantity"
ADD_ASSET_BUTTON = "add-asset-button"
ASSET_FORM_ERROR = "asset-form-error"
ASSET_FORM_STATUS = "asset-form-status"

# Pattern-matching ids: one per card / card field / remove button, keyed by symbol.
ASSET_CARD_TYPE = "asset-card"
ASSET_FIELD_TYPE = "asset-field"
REMOVE_ASSET_TYPE = "remove-asset"

# Charts and panels.
CORRELATION_HEATMAP = "correlation-heatmap"
CORRELATION_LOOKBACK = "correlation-lookback"
LOW_CORRELATION_LIST = "dashboard-low-correlation"
HISTORY_CHART = "dashboard-history-chart"
PERFORMANCE_STATS = "dashboard-performance-stats"
ALLOCATION_ASSET_CHART = "dashboard-allocation-asset"
ALLOCATION_CATEGORY_CHART = "dashboard-allocation-category"
REBALANCE_TARGET = "dashboard-rebalance-target"
REBALANCE_TABLE = "dashboard-rebalance-table"
REBALANCE_KEY = "dashboard-rebalance-key"
REBALANCE_EXCLUDED = "dashboard-rebalance-excluded"
REBALANCE_MORE = "dashboard-rebalance-more"

# CSV export (issue 6 id).
EXPORT_CSV = "export-csv"
EXPORT_DOWNLOAD = "dashboard-export-download"


def asset_field(symbol: str, field: str) -> dict[str, str]:
    """Id of one live value on an asset card."""
    return {"type": ASSET_FIELD_TYPE, "symbol": symbol, "field": field}


def remove_asset(symbol: str) -> dict[str, str]:
    """Id of the remove button of an asset card."""
    return {"type": REMOVE_ASSET_TYPE, "symbol": symbol}

# Custom assets (issue 16.1): an asset beyond config.yaml, added from the page.
CUSTOM_ASSET_FORM = "custom-asset-form"
CUSTOM_SYMBOL = "custom-asset-symbol"
CUSTOM_COINGECKO = "custom-asset-coingecko"
CUSTOM_YAHOO = "custom-asset-yahoo"
CUSTOM_NAME = "custom-asset-name"
CUSTOM_KIND = "custom-asset-kind"
CUSTOM_CATEGORY = "custom-asset-category"
CUSTOM_ADD_BUTTON = "custom-asset-add"
CUSTOM_ERROR = "custom-asset-error"
CUSTOM_STATUS = "custom-asset-status"

# First run (issue 16.2): empty portfolio choices and the sample label.
FIRST_RUN_EMPTY = "first-run-empty"
FIRST_RUN_SAMPLE = "first-run-sample"
FIRST_RUN_START_SAMPLE = "first-run-start-sample"
FIRST_RUN_CLEAR_SAMPLE = "first-run-clear-sample"
FIRST_RUN_KEEP_SAMPLE = "first-run-keep-sample"
FIRST_RUN_STATUS = "first-run-status"

# The transactions page (/portfolio/transactions).
TX_GRID = "transactions-grid"
TX_VERSION = "transactions-version"
TX_TYPE = "transactions-type"
TX_FIELD_TYPE = "transactions-field"        # pattern: {"type": TX_FIELD_TYPE, "field": name}
TX_FIELD_WRAP_TYPE = "transactions-field-wrap"
TX_ADD = "transactions-add"
TX_FORM_STATUS = "transactions-form-status"
TX_DELETE = "transactions-delete"
TX_UPLOAD = "transactions-upload"
TX_TIMEZONE = "transactions-timezone"
TX_PREVIEW = "transactions-preview"
TX_PENDING = "transactions-pending-file"
TX_CONFIRM = "transactions-confirm"
TX_EXPORT_CSV = "transactions-export-csv"
TX_EXPORT_GHOSTFOLIO = "transactions-export-ghostfolio"
TX_DOWNLOAD = "transactions-download"
TX_FLAGS = "transactions-negative-balances"


def tx_field(name: str) -> dict[str, str]:
    """Id of one input of the transaction form."""
    return {"type": TX_FIELD_TYPE, "field": name}


def tx_field_wrap(name: str) -> dict[str, str]:
    """Id of the wrapper shown or hidden with the type of the form."""
    return {"type": TX_FIELD_WRAP_TYPE, "field": name}

# Diversification that optimizes (issue 15): suggested mix, backtest, correlation drift.
CORRELATION_NOTE = "dashboard-correlation-note"
MIX_METHOD = "dashboard-mix-method"
MIX_ASSET_CAP = "dashboard-mix-asset-cap"
MIX_CATEGORY_CAP = "dashboard-mix-category-cap"
MIX_SWITCH = "dashboard-mix-switch"
MIX_TABLE = "dashboard-mix-table"
BACKTEST_CHART = "dashboard-backtest-chart"
BACKTEST_TABLE = "dashboard-backtest-table"
BACKTEST_REBALANCE = "dashboard-backtest-rebalance"
DRIFT_CHART = "dashboard-drift-chart"
HISTORY_RANGE = "dashboard-history-range"

# Phone and small screens (issue 16): the heatmap's ranked-list form, shown below md.
CORRELATION_RANKING = "dashboard-correlation-ranking"
