"""Layering: no HTTP, SQL or vendor-client imports in the pure and Dash layers (AST scan).

Import direction: pages, webapi -> queries -> analytics, data. ``queries/`` is the one read
side: no Dash, no Flask, nothing from the glue. ``pages/`` and ``webapi/`` never import each
other (each reads through ``queries/``).
"""

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


@pytest.mark.parametrize("folder", ["pages", "components", "analytics", "webapi", "queries"])
def test_architecture_no_io_imports_in_glue_and_core(folder):
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & FORBIDDEN)
                 for p in (ROOT / folder).rglob("*.py") if _imports(p) & FORBIDDEN}
    assert offenders == {}


def test_architecture_analytics_is_pure():
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & PURE_FORBIDDEN)
                 for p in (ROOT / "analytics").rglob("*.py") if _imports(p) & PURE_FORBIDDEN}
    assert offenders == {}


def _offenders(folder: str, forbidden: set[str]) -> dict[str, list[str]]:
    return {str(p.relative_to(ROOT)): sorted(_imports(p) & forbidden)
            for p in (ROOT / folder).rglob("*.py") if _imports(p) & forbidden}


def test_architecture_queries_is_the_read_side_without_web_frameworks():
    # No Dash, no Flask, no glue (pages, webapi, services, app) and no Dash builders.
    assert _offenders("queries", FORBIDDEN | {"dash", "dash_bootstrap_components", "flask",
                                              "werkzeug", "pages", "webapi", "services",
                                              "app", "components"}) == {}


@pytest.mark.parametrize(("folder", "other"), [("pages", "webapi"), ("webapi", "pages")])
def test_architecture_pages_and_webapi_never_import_each_other(folder, other):
    assert _offenders(folder, {other}) == {}


def test_architecture_pages_and_webapi_read_the_store_only_through_queries():
    # The valuation rule has one reader path: no page or route calls value_portfolio itself
    # or opens the converter on the store's frames.
    direct = {"analytics.portfolio_value", "analytics.btc_converter",
              "analytics.portfolio_history", "analytics.rebalancing"}
    offenders = {}
    for folder in ("pages", "webapi"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            used = {f"{n.module}.{a.name}" for n in ast.walk(tree)
                    if isinstance(n, ast.ImportFrom) and n.module in direct for a in n.names}
            calls = {u for u in used if u.rsplit(".", 1)[1] in {
                "value_portfolio", "BTCConverter", "value_quantities", "rebalance_to_btc"}}
            if calls:
                offenders[str(path.relative_to(ROOT))] = sorted(calls)
    assert offenders == {}


def _module_imports(path: Path) -> set[str]:
    """Full dotted names a module imports (``from a.b import c`` gives a.b and a.b.c)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_architecture_tests_import_support_code_only_from_tests_support():
    # Shared test code lives in tests/support/: never imported from conftest or a test module.
    offenders = {}
    for path in (ROOT / "tests").rglob("*.py"):
        bad = sorted(m for m in _module_imports(path) if m.startswith("tests.")
                     and not m.startswith("tests.support"))
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}


def test_architecture_every_analytics_module_is_reached_by_the_app():
    # A module of analytics/ that only tests import is dead weight (or unwired work).
    app_code = [p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] in {
        "app.py", "services.py", "serving.py", "settings.py", "security.py", "pages", "webapi",
        "queries", "components", "data", "analytics"}]
    imported = set().union(*(_module_imports(p) for p in app_code))
    modules = {f"analytics.{p.stem}" for p in (ROOT / "analytics").glob("*.py")
               if p.stem != "__init__"}
    assert sorted(modules - imported) == []
