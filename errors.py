"""The one error tree of btcfolio (below everything that raises: imports only redaction).

```
AppError
├── ConfigError                 invalid config / missing key for an enabled provider
└── DataError
    ├── ProviderError(provider, status, url_redacted)
    │   ├── TransientError       timeout, connection, 5xx          -> retry with backoff
    │   │   └── RateLimitError   429 or quota text in a 200 body   -> honour .retry_after
    │   │       └── BudgetExhaustedError  our own per-provider budget is spent (no call made)
    │   ├── AuthError            401/403, bad or missing key       -> never retry
    │   ├── NotFoundError        unknown symbol / coin id
    │   ├── OutOfWindowError     range older than the plan serves (CoinGecko 10012): next source
    │   └── BadResponseError     undecodable, schema drift, error object inside a 200 body
    ├── EmptyDataError           valid request, zero rows
    ├── StaleDataError           a price exists but is older than its staleness limit
    ├── InvalidInputError        user input rejected (bad symbol, quantity, parameter;
    │                            .field names it) - the one bad-input type, also a ValueError
    └── StorageError             wraps SQLAlchemyError
```
Messages name the provider, symbol and range; they never contain an API key.
``report_startup_error`` is the one stderr line and exit code of a process that could not start.
"""

from __future__ import annotations

import sys

from redaction import redact


class AppError(Exception):
    """Root of every error btcfolio raises on purpose; its message never carries a secret."""

    def __init__(self, *args: object) -> None:
        # A provider's error body may echo the request URL with the key: mask it at the source.
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))


class ConfigError(AppError):
    """The configuration is invalid; the message is one line naming the key."""


class DataError(AppError):
    """Data could not be fetched, validated, stored or read."""


class ProviderError(DataError):
    """A market-data provider failed."""

    def __init__(self, message: str, *, provider: str = "", status: int | None = None,
                 url_redacted: str = "") -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.url_redacted = url_redacted


class TransientError(ProviderError):
    """Timeout, connection error or 5xx: worth retrying."""


class RateLimitError(TransientError):
    """HTTP 429 or a throttle message in a 200 body."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class BudgetExhaustedError(RateLimitError):
    """The local rate-limit budget of a provider is spent: no request was sent, no retry."""


class AuthError(ProviderError):
    """401/403 or a missing/invalid key: never retried."""


class NotFoundError(ProviderError):
    """Unknown symbol or coin id."""


class OutOfWindowError(ProviderError):
    """The range is older than the provider's plan serves; the provider itself is healthy."""


class BadResponseError(ProviderError):
    """Undecodable body, schema drift or an error object inside a 200 body."""


class EmptyDataError(DataError):
    """A valid request returned zero rows."""


class StaleDataError(DataError):
    """A price exists but is older than its staleness limit."""


class InvalidInputError(DataError, ValueError):
    """User input was rejected; nothing was changed.

    The one bad-input error: a form field, an API parameter or body, a holding, a custom asset,
    an interval a provider does not offer. ``field`` names the offending part when there is one
    ("symbol", "quantity", ...); ``detail`` is the message prefixed with it. A ``ValueError``
    too, so callers that validate with plain ``ValueError`` handling keep working.
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field

    @property
    def detail(self) -> str:
        """``field: message`` (just the message when no field is named)."""
        return f"{self.field}: {self}" if self.field else str(self)


class StorageError(DataError):
    """The store failed (wraps SQLAlchemyError)."""


def report_startup_error(exc: AppError) -> int:
    """Print the one stderr line of an error that stopped a process starting; return its code.

    Used by both entry points (``python app.py`` and ``python -m data.scheduler``).

    Returns:
        2 after ``config error: ...`` for a ConfigError, 1 after ``startup failed: ...`` for any
        other AppError.
    """
    if isinstance(exc, ConfigError):
        print(f"config error: {exc}", file=sys.stderr)  # noqa: T201 - the one CLI line
        return 2
    print(f"startup failed: {exc}", file=sys.stderr)  # noqa: T201 - the one CLI line
    return 1
