"""Layering: no HTTP, SQL or vendor-client imports in the pure and Dash layers (AST scan)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"requests", "httpx", "sqlalchemy", "sqlite3", "psycopg", "redis", "yfinance",
             "pycoingecko", "urllib3", "flask_caching"}
PURE_FORBIDDEN = FORBIDDEN | {"dash", "flask", "data", "pages", "webapi", "services"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("folder", ["pages", "components", "analytics", "webapi"])
def test_architecture_no_io_imports_in_glue_and_core(folder):
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & FORBIDDEN)
                 for p in (ROOT / folder).rglob("*.py") if _imports(p) & FORBIDDEN}
    assert offenders == {}


def test_architecture_analytics_is_pure():
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & PURE_FORBIDDEN)
                 for p in (ROOT / "analytics").rglob("*.py") if _imports(p) & PURE_FORBIDDEN}
    assert offenders == {}
