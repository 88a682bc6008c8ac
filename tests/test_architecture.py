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


# ---- the import graph: layers, cycles, reachability, sizes ----------------------------------
# Every first-party module outside tests/ (alembic's revision scripts are loaded by path).
SKIP = ("tests/", "data/store/migrations/", ".venv/")
# Layers, highest first: a module may import only from a lower layer (or its own unit).
LAYERS = (
    ("benchmarks", "scripts", "gunicorn"),          # entry points beside the app
    ("app",),                                       # the app: CLI, Dash app, WSGI entry
    ("pages", "webapi"),                            # glue: never each other
    ("services", "security", "serving"),            # the glue's handles and guards
    ("components",),                                # pure Dash builders
    ("queries",),                                   # the one read side
    ("data",),                                      # IO
    ("analytics",),                                 # pure maths
    ("settings",), ("errors",), ("redaction",),     # the leaves
)
# Inside data/: the CLI names on top, then scheduling -> ingest -> store | providers -> records
# -> the cache backend.
DATA_LAYERS = (
    ("data.backup", "data.ledger", "data.scheduler"),
    ("data.scheduling",),
    ("data.ingest",),
    ("data.store", "data.providers"),
    ("data.clock", "data.models", "data.view_state"),  # records: only the backend below
    ("data.cache_backend",),  # the leaf: no import of ours (Redis or files, for both caches)
)
# Entry points: what runs a process (or is imported by name at run time) without a static
# import. Dash imports every page module whose name does not start with "_"; the benchmark
# runner imports its figure modules by name.
ENTRY_POINTS = ("app", "gunicorn.conf", "data.backup", "data.ledger", "data.scheduler",
                "data.ingest.__main__")
ENTRY_PACKAGES = ("benchmarks", "scripts")
# Reached only from tests, kept on purpose (module -> why). Keep it short.
TEST_ONLY_ALLOWED: dict[str, str] = {}
# SQL outside data/store (module -> why).
RAW_SQL_ALLOWED = {
    "benchmarks.naive": "the refresh benchmark's baseline: per-asset raw SQL, what the "
                        "repository's reads are measured against",
}
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60
# Over the size limit for now (module -> why); an entry that is no longer over fails the test.
OVERSIZE_ALLOWED: dict[str, str] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(SKIP) or "__pycache__" in rel:
            continue
        name = rel[:-3].replace("/", ".")
        out[name.removesuffix(".__init__")] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST):
    """Import nodes executed at run time: module level and inside functions (lazy imports),
    but not under ``if TYPE_CHECKING:`` (annotations only)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for body in node.orelse for n in _runtime_imports_of(body))
            continue
        yield from _runtime_imports_of(node)


def _runtime_imports_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _runtime_imports(node)


def _resolve(node: ast.AST, here: str, modules: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative import: from the importing module's package
            package = here.split(".")[:len(here.split(".")) - node.level
                                      + (1 if modules[here].name == "__init__.py" else 0)]
            base = ".".join([*package, base] if base else package)
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                 for a in node.names]
    return {n for n in names if n in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {t for node in _runtime_imports(tree)
                       for t in _resolve(node, name, modules) if t != name}
    return graph


GRAPH = _graph()


def _layer(module: str, layers: tuple[tuple[str, ...], ...]) -> tuple[int, str] | None:
    for rank, units in enumerate(layers):
        for unit in units:
            if module == unit or module.startswith(unit + "."):
                return rank, unit
    return None


def _upward(layers: tuple[tuple[str, ...], ...], within: str = "",
            graph: dict[str, set[str]] | None = None) -> list[str]:
    offenders = []
    for source, targets in (GRAPH if graph is None else graph).items():
        if not source.startswith(within):
            continue
        for target in targets:
            if not target.startswith(within):
                continue
            src, dst = _layer(source, layers), _layer(target, layers)
            if src is None or dst is None:
                offenders.append(f"{source} -> {target}: module in no layer")
            elif src[1] != dst[1] and src[0] >= dst[0]:
                offenders.append(f"{source} -> {target}")
    return sorted(offenders)


def test_architecture_every_module_is_in_a_layer():
    assert [m for m in GRAPH if _layer(m, LAYERS) is None] == []
    data = [m for m in GRAPH if m.startswith("data.")]
    assert [m for m in data if _layer(m, DATA_LAYERS) is None] == []


def test_architecture_imports_only_go_down_the_layers():
    # pages, webapi -> queries -> data -> analytics -> settings -> errors; pages and webapi
    # (one layer) never import each other.
    assert _upward(LAYERS) == []


def test_architecture_layer_rule_reports_the_offending_import():
    fake = {"queries.a": {"pages.b", "data.c"}, "pages.b": {"webapi.d"}, "webapi.d": set(),
            "data.c": {"errors"}, "errors": set(), "tools.x": set()}
    assert _upward(LAYERS, graph=fake) == ["pages.b -> webapi.d", "queries.a -> pages.b"]
    assert _upward(LAYERS, graph={"app": {"tools.x"}, "tools.x": set()}) == [
        "app -> tools.x: module in no layer"]


def test_architecture_data_subpackages_import_only_downward():
    # scheduling -> ingest -> store | providers (never each other) -> clock, models.
    assert _upward(DATA_LAYERS, within="data.") == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def _unit(module: str) -> str:
    """A module's package: data's subpackages count on their own; a top-level module is one."""
    parts = module.split(".")
    if parts[0] == "data" and len(parts) > 2:
        return ".".join(parts[:2])
    return module if parts[0] == "data" else parts[0]


def test_architecture_no_import_cycle_between_modules():
    assert _cycles(GRAPH) == []


def test_architecture_no_import_cycle_between_packages():
    units: dict[str, set[str]] = {}
    for source, targets in GRAPH.items():
        units.setdefault(_unit(source), set()).update(
            _unit(t) for t in targets if _unit(t) != _unit(source))
    assert _cycles(units) == []


def test_architecture_cycle_finder_reports_the_offenders():
    # The rule can fail: a two-module loop beside an acyclic chain is found, with its members.
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}, "d": set()}) == [["a", "b"]]


def _reachable(graph: dict[str, set[str]] | None = None) -> set[str]:
    graph = GRAPH if graph is None else graph
    seen = {m for m in graph if m in ENTRY_POINTS or m.startswith(ENTRY_PACKAGES)
            or (m.startswith("pages.") and not m.rsplit(".", 1)[1].startswith("_"))}
    todo = list(seen)
    while todo:
        for target in graph[todo.pop()]:
            # Importing a.b.c runs the packages a and a.b first.
            for name in [".".join(target.split(".")[:i]) for i in range(1, target.count(".") + 2)]:
                if name in graph and name not in seen:
                    seen.add(name)
                    todo.append(name)
    return seen


def test_architecture_no_module_is_reached_only_from_tests():
    unreached = sorted(set(GRAPH) - _reachable() - set(TEST_ONLY_ALLOWED))
    assert unreached == []
    assert sorted(set(TEST_ONLY_ALLOWED) & _reachable()) == []  # stale allow-list entries


def test_architecture_reachability_finds_a_module_only_tests_use():
    fake = {"app": {"queries.a"}, "queries": set(), "queries.a": set(), "queries.b": set(),
            "pages._helper": set(), "pages.home": {"pages._helper"}, "pages": set()}
    assert sorted(set(fake) - _reachable(fake)) == ["queries.b"]


def _function_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function's own body: without its docstring and its nested functions/classes
    (each of those is measured on its own)."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    lines: set[int] = set()
    nested: set[int] = set()
    for stmt in body:
        lines.update(range(stmt.lineno, stmt.end_lineno + 1))
        for inner in ast.walk(stmt):
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                nested.update(range(inner.lineno, inner.end_lineno + 1))
    return len(lines - nested)


def test_architecture_no_module_over_400_lines():
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in _modules().items()}
    over = sorted(m for m, n in sizes.items() if n > MAX_MODULE_LINES)
    assert [m for m in over if m not in OVERSIZE_ALLOWED] == []
    assert sorted(set(OVERSIZE_ALLOWED) - set(over)) == []  # stale entries: remove them


def test_architecture_no_function_over_60_lines():
    over = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and _function_lines(node) > MAX_FUNCTION_LINES:
                over.append(f"{name}.{node.name}: {_function_lines(node)} lines")
    assert over == []


def test_architecture_function_measure_counts_code_not_docstrings_or_nested_functions():
    # The measure can fail: 61 statements are over the limit, a docstring or inner def is not.
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    long = ast.parse(f"def f():\n    '''doc\n    more'''\n{body}\n").body[0]
    inner = ast.parse("def g():\n    def h():\n" + body.replace("    ", "        ")
                      + "\n    return h\n").body[0]
    assert _function_lines(long) == 61 and _function_lines(inner) == 1


def test_architecture_tables_are_reached_only_through_the_store():
    # The SQLAlchemy tables live in data/store/schema.py; nothing outside data/store reads them.
    importers = sorted(m for m, targets in GRAPH.items()
                       if "data.store.schema" in targets and not m.startswith("data.store."))
    assert importers == []
    outside = sorted(m for m, p in _modules().items() if "sqlalchemy" in _imports(p)
                     and not m.startswith("data.store.") and m not in RAW_SQL_ALLOWED)
    assert outside == []


def test_architecture_data_names_its_subsystems():
    # data/ is rooms, not a flat folder: at most 8 modules directly inside it (packages aside).
    flat = sorted(p.name for p in (ROOT / "data").glob("*.py"))
    assert len(flat) <= 8, flat
    assert {p.name for p in (ROOT / "data").iterdir() if (p / "__init__.py").exists()} == {
        "providers", "store", "scheduling", "ingest"}


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
