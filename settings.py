"""Load and validate btcfolio's configuration: config.yaml overlaid with environment overrides.

`load_settings(path, environ)` is deterministic given its two inputs. Validation uses pydantic
models with ``extra="forbid"`` so an unknown key is an error, and every problem is reported as
one line naming the dotted key (``ConfigError``). Secrets are never read from the file: a
provider names the environment variable that holds its key (``api_key_env``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from errors import ConfigError, InvalidInputError

ENV_PREFIX = "BTCFOLIO__"
CONFIG_ENV = "BTCFOLIO_CONFIG"
DATA_DIR_ENV = "BTCFOLIO_DATA_DIR"
DEFAULT_CONFIG = Path(__file__).with_name("config.yaml")
PROVIDERS = ("coingecko", "coinmarketcap", "alphavantage", "yahoo")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class ServerSettings(_Strict):
    """Where the web server binds and which Host headers it answers (``server:``)."""
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # Host names the server answers besides loopback names and the bind address (security.py):
    # the public name behind a reverse proxy, a LAN address. Other Host headers get a 400.
    allowed_hosts: tuple[str, ...] = ()


class StoreSettings(_Strict):
    """The price/holdings database URL and the bundled closes that seed an empty store."""
    url: str = "sqlite:///btcfolio.db"
    seed_file: str = "data/sample/prices_daily.csv"


class CacheSettings(_Strict):
    """Provider response cache: file directory or Redis, and how long quotes/history stay fresh."""
    dir: str = "cache"
    redis_url: str | None = None
    # Namespace of every Redis key (cache, rate limits): lets several installs share one Redis.
    redis_key_prefix: str = Field("btcfolio", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    quote_ttl_seconds: int = Field(30, gt=0)
    stale_if_error_seconds: int = Field(300, ge=0)
    history_ttl_seconds: int = Field(21600, gt=0)


class RefreshSettings(_Strict):
    """How often an open dashboard re-reads the store (the page's refresh tick)."""
    interval_seconds: int = Field(30, ge=1, le=86400)


class SchedulerSettings(_Strict):
    """Background jobs (quotes, daily history, backfills, health) and their single-leader lock."""
    # embedded: `python app.py` runs the jobs in a background thread; set false when
    # `python -m data.scheduler` runs separately (gunicorn deployments).
    embedded: bool = True
    lock: Literal["auto", "file", "postgres", "redis"] = "auto"
    lock_ttl_seconds: float = Field(30, gt=0)
    heartbeat_seconds: float = Field(10, gt=0)
    standby_poll_seconds: float = Field(5, gt=0)
    misfire_grace_seconds: int = Field(60, ge=1)
    history_hour_utc: int = Field(0, ge=0, le=23)
    history_minute_utc: int = Field(10, ge=0, le=59)
    history_days_back: int = Field(3, ge=1, le=60)
    backfill_days: int = Field(365, ge=1)
    backfill_check_seconds: int = Field(60, ge=1)
    health_interval_seconds: int = Field(60, ge=1)
    shutdown_timeout_seconds: float = Field(5, gt=0)
    # Hourly bars of the held assets (data/scheduling/hourly.py): fetched this often,
    # kept this long.
    hourly_interval_minutes: int = Field(60, ge=5)
    hourly_retention_days: int = Field(7, ge=1, le=90)

    @model_validator(mode="after")
    def _heartbeat_within_ttl(self) -> SchedulerSettings:
        # The leader must renew a TTL lock well before it expires.
        if self.heartbeat_seconds * 2 > self.lock_ttl_seconds:
            raise ValueError("heartbeat_seconds must be at most half of lock_ttl_seconds")
        return self


class StalenessSettings(_Strict):
    """Ages after which a price is flagged stale: quotes in seconds, daily closes in days."""
    crypto_quote_seconds: int = Field(600, gt=0)
    crypto_daily_days: float = Field(1, gt=0)
    equity_daily_days: float = Field(4, gt=0)


class IngestSettings(_Strict):
    """Retries, circuit breaker, rate-limit waiting and bad-data rejection of the ingest."""

    retry_attempts: int = Field(4, ge=1, le=10)
    retry_max_seconds: float = Field(60, gt=0)
    backoff_initial_seconds: float = Field(1, ge=0)
    backoff_max_seconds: float = Field(30, gt=0)
    breaker_failures: int = Field(3, ge=1)
    breaker_reset_seconds: float = Field(300, gt=0)
    rate_limit_max_wait_seconds: float = Field(120, ge=0)
    max_jump_factor: float = Field(5, gt=1)
    history_days: int = Field(365, ge=1)


class RateLimit(_Strict):
    """A provider's request budget per minute and per day; None means that window is unlimited."""
    per_minute: int | None = Field(None, gt=0)
    per_day: int | None = Field(None, gt=0)


class SourceSettings(_Strict):
    """One price provider: its origin, plan, API-key variable, timeout and rate budget."""
    enabled: bool = True
    base_url: str
    plan: Literal["demo", "pro"] | None = None
    api_key_env: str | None = None
    key_required: bool = False
    timeout_seconds: float = Field(10, gt=0)
    rate_limit: RateLimit = RateLimit()

    @field_validator("base_url")
    @classmethod
    def _origin_only(cls, value: str) -> str:
        # The adapter appends the provider's documented paths, so only scheme://host[:port].
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be scheme://host[:port]")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError("must have no path or query (scheme://host[:port])")
        return value.rstrip("/")


class AssetSettings(_Strict):
    """One tracked asset: display name, category, kind and its id at each provider."""
    name: str
    category: str
    kind: Literal["crypto", "equity"]
    symbols: dict[Literal["coingecko", "coinmarketcap", "yahoo", "alphavantage"], str] = {}
    sources: tuple[Literal["coingecko", "coinmarketcap", "yahoo", "alphavantage"], ...] = ()
    # Trade in whole lots of this size when rebalancing (1 = whole shares); None = any fraction.
    lot_size: float | None = Field(None, gt=0)

    @field_validator("symbols", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        # CoinMarketCap ids are numbers in YAML; keep every vendor id as text.
        if isinstance(value, Mapping):
            return {k: str(v) for k, v in value.items() if v is not None}
        return value

    @model_validator(mode="after")
    def _sources_have_symbols(self) -> AssetSettings:
        for source in self.sources:
            if source not in self.symbols:
                raise ValueError(f"source {source!r} is listed but symbols.{source} is missing")
        return self


class RebalanceSettings(_Strict):
    """Practical rebalance: legs worth less than this (USD) are skipped and listed."""

    min_trade_usd: float = Field(10, ge=0)


# Above this a quantity is a typo, not a holding (the whole BTC supply is 2.1e7).
MAX_QUANTITY = 1e12
# Below this a quantity is noise (1 sat is 1e-8 BTC): a subnormal like 1e-320 would value to 0.
MIN_QUANTITY = 1e-12


def validate_quantity(quantity: object) -> float:
    """Return the quantity as a float if it is a finite number in [MIN_QUANTITY, MAX_QUANTITY].

    Strings are refused even when they look numeric: the form sends numbers and the JSON API
    must get a JSON number, so a string is a client bug worth reporting.

    Raises:
        InvalidInputError: missing, not a number (bools included), NaN/inf, <= 0 or too large.
    """
    if quantity is None or quantity == "":
        raise InvalidInputError("enter a quantity (a number)", field="quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, (int, float)):
        raise InvalidInputError("the quantity must be a number", field="quantity")
    try:
        value = float(quantity)
    except OverflowError:  # an int beyond float range (JSON allows any digits)
        value = math.inf
    if math.isinf(value) and value > 0 and isinstance(quantity, int):
        raise InvalidInputError(f"the quantity must be at most {MAX_QUANTITY:,.0f}",
                                field="quantity")
    if not math.isfinite(value):
        raise InvalidInputError("the quantity must be a finite number", field="quantity")
    if value <= 0:
        raise InvalidInputError("the quantity must be greater than zero", field="quantity")
    if value < MIN_QUANTITY:
        raise InvalidInputError(f"the quantity must be at least {MIN_QUANTITY:g}",
                                field="quantity")
    if value > MAX_QUANTITY:
        raise InvalidInputError(f"the quantity must be at most {MAX_QUANTITY:,.0f}",
                                field="quantity")
    return value


class PortfolioSettings(_Strict):
    """The holdings the dashboard starts from, validated like a holding typed in the UI."""
    name: str = "default"
    holdings: dict[str, float] = {}

    @field_validator("holdings")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        # The same bounds as a holding entered in the dashboard or the API.
        for symbol, qty in value.items():
            try:
                validate_quantity(qty)
            except InvalidInputError as exc:
                raise ValueError(f"quantity of {symbol} must be a positive number: {exc}, "
                                 f"got {qty}") from None
        return value


class LedgerSettings(_Strict):
    """How the transaction ledger computes cost basis."""
    # Which lots a disposal closes for cost basis and realised/unrealised results.
    cost_basis: Literal["fifo", "lifo", "hifo", "average"] = "fifo"


class Settings(_Strict):
    """The whole validated configuration: config.yaml overlaid with ``BTCFOLIO__`` variables."""
    server: ServerSettings = ServerSettings()
    store: StoreSettings = StoreSettings()
    cache: CacheSettings = CacheSettings()
    refresh: RefreshSettings = RefreshSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    staleness: StalenessSettings = StalenessSettings()
    ingest: IngestSettings = IngestSettings()
    categories: tuple[str, ...]
    sources: dict[Literal["coingecko", "coinmarketcap", "alphavantage", "yahoo"], SourceSettings]
    assets: dict[str, AssetSettings]
    portfolio: PortfolioSettings = PortfolioSettings()
    rebalance: RebalanceSettings = RebalanceSettings()
    ledger: LedgerSettings = LedgerSettings()
    demo: bool = False
    # Where the store, cache and locks live (relative paths above are inside it). Resolved by
    # load_settings: $BTCFOLIO_DATA_DIR, else this key, else the platform's user data dir.
    data_dir: str | None = None

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        for symbol, asset in self.assets.items():
            if symbol != symbol.upper():
                raise ValueError(f"assets.{symbol}: asset symbols must be upper case")
            if asset.category not in self.categories:
                raise ValueError(
                    f"assets.{symbol}.category: unknown category {asset.category!r} "
                    f"(known: {', '.join(self.categories)})"
                )
        if "BTC" not in self.assets:  # analytics.units.BTC (settings is a leaf: no import)
            raise ValueError("assets: BTC must be in the universe (it is the unit of account)")
        for symbol in self.portfolio.holdings:
            if symbol not in self.assets:
                raise ValueError(f"portfolio.holdings.{symbol}: not an asset of the universe")
        return self

    def lot_sizes(self) -> dict[str, float]:
        """``{symbol: lot}`` of the assets that trade in whole lots (``assets.<S>.lot_size``)."""
        return {s: a.lot_size for s, a in self.assets.items() if a.lot_size is not None}

    def api_key(self, source: str, environ: Mapping[str, str] | None = None) -> str | None:
        """Return the API key of a source from the environment (never from the file)."""
        env = os.environ if environ is None else environ
        name = self.sources[source].api_key_env
        return (env.get(name) or None) if name else None


def _merge_env(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Overlay BTCFOLIO__SECTION__KEY variables on the parsed YAML (values parsed as YAML)."""
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX):
            continue
        path = [p for p in name[len(ENV_PREFIX):].split("__")]
        if not all(path):
            raise ConfigError(f"{name}: empty key segment in environment override")
        node = raw
        for i, part in enumerate(path):
            # Env names are upper case; match an existing key case-insensitively.
            key = next((k for k in node if str(k).lower() == part.lower()), part.lower())
            if i == len(path) - 1:
                try:
                    node[key] = yaml.safe_load(environ[name])
                except yaml.YAMLError as exc:
                    raise ConfigError(f"{name}: value is not valid YAML ({exc.problem})") from exc
            else:
                child = node.get(key)
                if child is None:
                    child = node[key] = {}
                if not isinstance(child, dict):
                    raise ConfigError(f"{name}: {key} is not a section")
                node = child
    return raw


def data_dir_of(configured: str | None, environ: Mapping[str, str]) -> Path:
    """The data directory: $BTCFOLIO_DATA_DIR, else ``data_dir``, else the user data dir.

    Never the working directory: a server started from a git checkout must not write into it.
    """
    chosen = environ.get(DATA_DIR_ENV) or configured
    if chosen:
        return Path(chosen).expanduser().absolute()
    return Path(platformdirs.user_data_dir("btcfolio", appauthor=False))


def _in_data_dir(settings: Settings, environ: Mapping[str, str]) -> Settings:
    """Settings with a relative SQLite file and cache dir placed inside the data directory."""
    data_dir = data_dir_of(settings.data_dir, environ)
    url = settings.store.url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        path = Path(url[len("sqlite:///"):]).expanduser()
        if not path.is_absolute():
            url = f"sqlite:///{data_dir / path}"
    cache_dir = Path(settings.cache.dir).expanduser()
    return settings.model_copy(update={
        "data_dir": str(data_dir),
        "store": settings.store.model_copy(update={"url": url}),
        "cache": settings.cache.model_copy(update={
            "dir": str(cache_dir if cache_dir.is_absolute() else data_dir / cache_dir)}),
    })


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-after"))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key is missing"
    return f"{loc}: {msg}" if loc else msg


def load_settings(path: str | Path | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Read the config file, overlay environment overrides, validate.

    Args:
        path: config file; default ``$BTCFOLIO_CONFIG`` or the bundled config.yaml.
        environ: environment mapping (default ``os.environ``).

    Returns:
        Frozen, validated settings.

    Raises:
        ConfigError: one line naming the key and the problem.
    """
    env = dict(os.environ if environ is None else environ)
    cfg_path = Path(path or env.get(CONFIG_ENV) or DEFAULT_CONFIG)
    try:
        text = cfg_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{cfg_path}: cannot read config file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{cfg_path}: not UTF-8 text (byte {exc.start})") from exc
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{cfg_path}{where}: not valid YAML") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{cfg_path}: top level must be a mapping of sections")
    raw = _merge_env(raw, env)
    if env.get("DATABASE_URL"):
        raw.setdefault("store", {})["url"] = env["DATABASE_URL"]
    if env.get("REDIS_URL"):
        raw.setdefault("cache", {})["redis_url"] = env["REDIS_URL"]
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc
    return _in_data_dir(settings, env)
