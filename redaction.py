"""Keep secrets (API keys, the auth password) out of every message and log line.

Two nets, because a key can reach text by paths nobody planned:

* ``redact(text)`` replaces every registered secret (raw and URL-encoded) and the value of any
  credential-looking query parameter (``apikey=...``) with ``***``. ``AppError`` applies it to
  its message, so an error shown in /api/health, the status banner or a CLI line is clean even
  when a provider's error body echoes the request URL.
* ``register_secret`` also installs, once per process, a log-record factory that redacts every
  record (message, arguments and formatted traceback) whichever logger created it: urllib3's
  debug line carries the full request URL, and a chained requests exception's message does too.
  A record factory (not a handler filter) also covers handlers added later, such as pytest's.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter values would mask ordinary words; no provider issues keys this short.
MIN_SECRET_LENGTH = 8
# Query parameters carrying credentials at one of the providers (see data/providers/http.py).
SECRET_PARAM_NAMES = ("apikey", "api_key", "key", "token", "crumb", "x_cg_demo_api_key",
                      "x_cg_pro_api_key", "cmc_pro_api_key", "password")
_SECRET_PARAM = re.compile(
    r"(?i)(?<![A-Za-z0-9_])(" + "|".join(SECRET_PARAM_NAMES) + r")=([^&\s\"'<>#]+)")

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
_installed = False


def register_secret(value: str | None) -> None:
    """Mask ``value`` (and its URL-encoded forms) in every message and log line from now on."""
    global _pattern
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        forms = {value, quote(value, safe=""), quote_plus(value)}
        if forms <= _secrets:
            return
        _secrets.update(forms)
        # Longest first, so a secret containing another one is masked whole.
        _pattern = re.compile("|".join(re.escape(s) for s in sorted(_secrets, key=len,
                                                                     reverse=True)))
    install_log_redaction()


def redact(text: str) -> str:
    """The text with every registered secret and every credential query value masked."""
    if _pattern is not None:
        text = _pattern.sub(MASK, text)
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={MASK}", text)


def clip(text: str, limit: int) -> str:
    """The text redacted, then cut to ``limit`` characters.

    Always in this order: cutting first can split a key, and a partial key no longer matches
    the registered secret (21 of 33 characters of a key once reached /api/health that way).
    """
    return redact(text)[:limit]


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken %-format is logging's to report, not ours
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        # Format the traceback now (the handler reuses exc_text), masked.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_log_redaction() -> None:
    """Wrap the process's log-record factory so every record is redacted (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args, **kwargs) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
