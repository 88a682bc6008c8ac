"""Back up and restore the SQLite store: ``python -m data.backup create|restore``.

    python -m data.backup create [FILE]          # default <data dir>/backups/btcfolio-<UTC>.db
    python -m data.backup restore FILE [--force]

``create`` uses SQLite's online backup API, so it is safe while the app runs and writes (a
plain file copy of a WAL database can miss the newest pages). ``restore`` checks that FILE is
a btcfolio store, copies it over the configured store (keeping the old one as
``<store>.before-restore`` when ``--force`` replaces it) and migrates it to the current schema,
so a backup made by an older version restores into a newer one. Stop the app before a
restore. A PostgreSQL store is backed up with ``pg_dump -Fc`` and restored with
``pg_restore``: the command says exactly which (docs/deploy.md, README "Backup and upgrade").
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sqlite3
import sys
from collections.abc import Mapping
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from data.store.repository import Repository
from errors import AppError, ConfigError, StorageError

logger = logging.getLogger(__name__)

# Tables every btcfolio store has since its first migration.
REQUIRED_TABLES = {"alembic_version", "prices", "assets"}


def sqlite_path(store_url: str) -> Path:
    """The file of a SQLite store URL.

    Raises:
        ConfigError: the store is not a SQLite file (PostgreSQL: the pg_dump command to use).
    """
    if store_url.startswith("sqlite:///") and ":memory:" not in store_url:
        return Path(store_url[len("sqlite:///"):]).expanduser()
    if store_url.startswith(("postgresql", "postgres")):
        parts = urlsplit(store_url)
        db = parts.path.lstrip("/") or "btcfolio"
        raise ConfigError(
            "the store is PostgreSQL: back it up with `pg_dump -Fc -h HOST -U USER -f "
            f"btcfolio.dump {db}` and restore with `pg_restore --clean --if-exists -h HOST "
            f"-U USER -d {db} btcfolio.dump` (see docs/deploy.md)")
    raise ConfigError("store.url: only a SQLite file store can be backed up by this command")


def _copy(src: Path, dst: Path) -> None:
    """Page-consistent copy with SQLite's online backup API (the source may be in use)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True)) as source, \
            closing(sqlite3.connect(dst)) as target:
        source.backup(target)


def create_backup(store_url: str, dest: Path) -> Path:
    """Write a consistent copy of the store to ``dest`` (which must not exist).

    Raises:
        ConfigError: not a SQLite store.
        StorageError: no store yet, ``dest`` exists, or SQLite failed.
    """
    src = sqlite_path(store_url)
    if not src.is_file():
        raise StorageError(f"no store at {src}: nothing to back up")
    if dest.exists():
        raise StorageError(f"{dest} exists: choose another file")
    try:
        _copy(src, dest)
    except sqlite3.Error as exc:
        dest.unlink(missing_ok=True)
        raise StorageError(f"backup of {src} failed: {exc}") from exc
    return dest


def check_backup(path: Path) -> None:
    """Raise StorageError unless ``path`` is a readable SQLite file with btcfolio's tables."""
    if not path.is_file():
        raise StorageError(f"{path}: no such backup file")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            conn.execute("PRAGMA quick_check").fetchone()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path} is not a SQLite store ({exc})") from exc
    missing = REQUIRED_TABLES - tables
    if missing:
        raise StorageError(f"{path} is not a btcfolio store (no {', '.join(sorted(missing))})")


def restore_backup(store_url: str, backup: Path, *, force: bool = False) -> Path:
    """Replace the store with ``backup`` and migrate it; return the store's path.

    Raises:
        ConfigError: not a SQLite store.
        StorageError: the backup is not a btcfolio store, or a store exists and not ``force``.
    """
    check_backup(backup)
    target = sqlite_path(store_url)
    if target.exists():
        if not force:
            raise StorageError(f"a store exists at {target}: pass --force to replace it "
                               f"(it is kept as {target.name}.before-restore)")
        shutil.copy2(target, target.with_name(target.name + ".before-restore"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    try:
        _copy(backup, target)
    except sqlite3.Error as exc:
        raise StorageError(f"restore into {target} failed: {exc}") from exc
    # An older backup gets the current schema now, not at the next start.
    Repository.from_url(store_url).engine.dispose()
    return target


def _default_dest(data_dir: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path(data_dir) / "backups" / f"btcfolio-{stamp}.db"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m data.backup",
                                     description="Back up or restore btcfolio's SQLite store.")
    parser.add_argument("--config", default=None, help="config file (default config.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="write a consistent copy of the store")
    create.add_argument("file", nargs="?", help="backup file (default <data dir>/backups/...)")
    restore = sub.add_parser("restore", help="replace the store with a backup (app stopped)")
    restore.add_argument("file", help="backup file made by `create`")
    restore.add_argument("--force", action="store_true", help="replace an existing store")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """CLI: one line on success (the file written), one line and exit 1 on failure."""
    from settings import load_settings

    args = _parse_args(argv)
    env = os.environ if environ is None else environ
    try:
        settings = load_settings(args.config, env)
        if args.command == "create":
            dest = Path(args.file) if args.file else _default_dest(settings.data_dir)
            done = f"backup written: {create_backup(settings.store.url, dest)}"
        else:
            target = restore_backup(settings.store.url, Path(args.file), force=args.force)
            done = f"restored {args.file} into {target}"
    except AppError as exc:
        print(f"backup error: {exc}", file=sys.stderr)  # noqa: T201 - the CLI's one line
        return 1
    print(done)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
