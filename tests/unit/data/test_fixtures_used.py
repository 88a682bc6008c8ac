"""Every recorded provider payload is used by a test and documented in SOURCES.md."""

from __future__ import annotations

from pathlib import Path

from tests.support.sample import FIXTURES

TESTS = FIXTURES.parent


def _payloads() -> list[Path]:
    return sorted(FIXTURES.rglob("*.json"))


def test_every_recorded_payload_is_loaded_by_some_test():
    sources = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.rglob("*.py")
                        if p.resolve() != Path(__file__).resolve())
    unused = [str(p.relative_to(FIXTURES)) for p in _payloads() if p.name not in sources]
    assert unused == [], "use these payloads in a test or remove them (and their SOURCES.md row)"


def test_sources_md_documents_exactly_the_payloads_present():
    text = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip() for line in text.splitlines()
            if line.startswith("| ") and line.split("|")[1].strip().endswith(".json")}
    assert rows == {p.name for p in _payloads()}
