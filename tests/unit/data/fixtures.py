"""Load recorded provider payloads from tests/fixtures/<provider>/ (see SOURCES.md there)."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def load(provider: str, name: str):
    """Decoded JSON of one recorded payload."""
    return json.loads((FIXTURES / provider / name).read_text(encoding="utf-8"))


def raw(provider: str, name: str) -> bytes:
    """Bytes of one recorded payload (to serve verbatim)."""
    return (FIXTURES / provider / name).read_bytes()
