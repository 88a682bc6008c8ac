"""Retries (tenacity: exponential backoff with jitter, Retry-After honoured) and a circuit breaker.

Both take seams (``sleep``, ``clock``) so tests run instantly and deterministically.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from errors import BudgetExhaustedError, RateLimitError, TransientError

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the retry loop: attempts, total seconds, backoff range."""

    attempts: int = 4
    max_seconds: float = 60.0
    initial_backoff: float = 1.0
    max_backoff: float = 30.0

    @classmethod
    def from_settings(cls, ingest: object) -> RetryPolicy:
        """From ``settings.ingest``."""
        return cls(attempts=ingest.retry_attempts, max_seconds=ingest.retry_max_seconds,
                   initial_backoff=ingest.backoff_initial_seconds,
                   max_backoff=ingest.backoff_max_seconds)


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy, *,
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """Call fn, retrying TransientError (timeouts, connection errors, 429, 5xx).

    A RateLimitError with ``retry_after`` waits exactly that long (Retry-After header); others
    wait a random exponential backoff. The loop stops after ``attempts`` calls or when the next
    wait would pass ``max_seconds``; the last error is raised unchanged. A spent local budget
    (BudgetExhaustedError) is not retried: the limiter already waited its maximum.
    """
    jitter = wait_random_exponential(multiplier=policy.initial_backoff, max=policy.max_backoff)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            return float(exc.retry_after)
        return jitter(state)

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.info("retry %d after %.1fs: %s", state.attempt_number,
                    state.upcoming_sleep, exc)

    retrying = Retrying(
        retry=(retry_if_exception_type(TransientError)
               & retry_if_not_exception_type(BudgetExhaustedError)),
        stop=stop_after_attempt(policy.attempts) | stop_before_delay(policy.max_seconds),
        wait=wait, sleep=sleep, reraise=True, before_sleep=log_retry)
    return retrying(fn)


class CircuitBreaker:
    """Closed -> open after N failures in a row -> half-open after reset_seconds (one trial)."""

    def __init__(self, *, failures: int = 3, reset_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Open after ``failures`` consecutive failures; retry after ``reset_seconds``."""
        self.threshold = failures
        self.reset_seconds = reset_seconds
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """"closed", "open" or "half-open"."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.reset_seconds else "open"

    def allow(self) -> bool:
        """Whether a call may go to the provider now."""
        return self.state != "open"

    def record_success(self) -> None:
        """A call succeeded: close the breaker."""
        with self._lock:
            self.failures, self.opened_at = 0, None

    def record_failure(self) -> None:
        """A call failed: open after the threshold, or again at once after a failed trial."""
        with self._lock:
            self.failures += 1
            if self.opened_at is not None or self.failures >= self.threshold:
                self.opened_at = self.clock()
