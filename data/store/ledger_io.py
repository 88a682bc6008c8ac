"""Import and export of the ledger (write side) and its CLI.

``python -m data.ledger import FILE [--dry-run] [--timezone Area/City]`` and
``python -m data.ledger export [--format csv|ghostfolio] [--out FILE]``.

An import is all or nothing: a file with any bad row stores nothing and names every bad row;
rows already stored (same dedupe hash) are counted and skipped, so re-importing a file adds
nothing; a dry run returns exactly the entries that would be stored.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from uuid import uuid4

from analytics.ledger import Entry, dedupe_hash
from analytics.ledger_export import export_csv, export_ghostfolio
from analytics.ledger_import import RowError, parse_import
from data.store import ledger_store
from data.store.repository import Repository
from errors import AppError, InvalidInputError

logger = logging.getLogger(__name__)
FORMATS = ("csv", "ghostfolio")


class LedgerImportError(InvalidInputError):
    """A file that cannot be imported (bad input); ``errors`` names every bad row and reason."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} bad row(s): nothing was imported", field="file")
        self.errors = errors


@dataclass
class ImportResult:
    """What an import stored (or, in a dry run, would store)."""

    rows: int
    entries: list[Entry] = field(default_factory=list)
    duplicates: int = 0
    batch: str | None = None
    dry_run: bool = False
    ignored_columns: list[str] = field(default_factory=list)


def symbol_aliases(settings) -> dict[str, str]:  # untyped: settings.Settings
    """Provider ids (lower case) of every configured asset -> its symbol (Ghostfolio import)."""
    return {vendor_id.lower(): symbol for symbol, asset in settings.assets.items()
            for vendor_id in asset.symbols.values()}


def identify(entries: Sequence[Entry], portfolio: str, batch: str) -> list[Entry]:
    """Give each entry its dedupe hash (equal rows numbered in file order) and batch."""
    seen: Counter = Counter()
    out = []
    for entry in entries:
        key = dedupe_hash(entry, portfolio)
        out.append(replace(entry, import_batch=batch,
                           dedupe_hash=dedupe_hash(entry, portfolio, seen[key])))
        seen[key] += 1
    return out


def import_text(repo: Repository, settings, content: str, *,
                tz: str | None = None, dry_run: bool = False) -> ImportResult:
    """Parse and (unless ``dry_run``) store a transactions file, all or nothing.

    Raises:
        LedgerImportError: any bad row (nothing stored).
        ValueError: unknown timezone.
        StorageError: the store failed (the transaction is rolled back).
    """
    parsed = parse_import(content, universe=settings.assets.keys(), timezone=tz,
                          aliases=symbol_aliases(settings))
    if parsed.errors:
        raise LedgerImportError(parsed.errors)
    portfolio, batch = settings.portfolio.name, uuid4().hex[:16]
    entries = identify(parsed.entries, portfolio, batch)
    known = ledger_store.stored_hashes(repo, portfolio, (e.dedupe_hash for e in entries))
    fresh, seen = [], set(known)
    for entry in entries:
        if entry.dedupe_hash not in seen:
            fresh.append(entry)
            seen.add(entry.dedupe_hash)
    result = ImportResult(rows=len(entries), duplicates=len(entries) - len(fresh),
                          batch=batch, dry_run=dry_run, ignored_columns=parsed.ignored_columns)
    result.entries = fresh if dry_run else ledger_store.insert_entries(repo, portfolio, fresh)
    logger.info("ledger import: %d rows, %d new, %d duplicates%s", result.rows,
                len(result.entries), result.duplicates, " (dry run)" if dry_run else "")
    return result


def export_text(repo: Repository, portfolio: str, fmt: str = "csv", *,
                now: datetime | None = None) -> str:
    """The ledger as generic CSV or Ghostfolio JSON.

    Raises:
        ValueError: unknown format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    entries = ledger_store.load_entries(repo, portfolio)
    if fmt == "csv":
        return export_csv(entries)
    return export_ghostfolio(entries, now=now or datetime.now(timezone.utc))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m data.ledger", description=__doc__.split("\n")[0])
    p.add_argument("--config", default=str(Path(__file__).resolve().parents[2] / "config.yaml"))
    sub = p.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import a generic CSV or a Ghostfolio export")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true")
    imp.add_argument("--timezone", default=None, help="zone of dates without offset (Area/City)")
    exp = sub.add_parser("export", help="write the ledger")
    exp.add_argument("--format", choices=FORMATS, default="csv")
    exp.add_argument("--out", type=Path, default=None, help="file (default: stdout)")
    return p


def _run_import(repo: Repository, settings, args) -> int:
    try:
        content = args.file.read_text(encoding="utf-8")
        result = import_text(repo, settings, content, tz=args.timezone, dry_run=args.dry_run)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.file}: {exc.__class__.__name__}", file=sys.stderr)  # noqa: T201
        return 2
    except LedgerImportError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        for e in exc.errors:
            print(f"  row {e.row}: {e.field}: {e.reason}", file=sys.stderr)  # noqa: T201
        return 1
    verb = "would import" if result.dry_run else "imported"
    print(f"{verb} {len(result.entries)} of {result.rows} rows "  # noqa: T201 - CLI output
          f"({result.duplicates} duplicates skipped)")
    return 0


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the CLI; exit status 0 ok, 1 refused file, 2 bad arguments or config."""
    from settings import load_settings  # entry point: settings are loaded here only

    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config, dict(os.environ if environ is None else environ))
        repo = Repository.from_url(settings.store.url)
        if args.command == "import":
            return _run_import(repo, settings, args)
        text = export_text(repo, settings.portfolio.name, args.format)
    except (AppError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        return 2
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
