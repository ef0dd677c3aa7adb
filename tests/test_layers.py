"""The walls where the data flows: imports point down the flow, never up and never in a circle.

Packages are ordered from the bottom (records) to the top (commands); a package may
import only packages listed before it.  Only store/ speaks SQL.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "netvigil"
# Bottom to top.  Siblings on one line may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("failures",),
    ("model",),
    ("analysis", "detect"),
    ("evaluation", "signals", "evidence"),
    ("store",),
    ("engine", "probe"),
    ("testbed", "api", "report"),
    ("web",),
    ("cli",),
    ("__main__",),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _imports() -> list[tuple[str, str, str]]:
    """(importing package, imported package, file) for every netvigil import between packages."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        here = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "netvigil" and len(parts) > 1 and parts[1] != here:
                    found.append((here, parts[1], str(rel)))
    return found


def test_every_package_has_a_layer():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert packages | modules <= set(RANK), sorted((packages | modules) - set(RANK))


def test_imports_point_down_the_flow():
    upward = [f"{where}: {here} (layer {RANK[here]}) imports {there} (layer {RANK[there]})"
              for here, there, where in _imports() if RANK[there] >= RANK[here]]
    assert upward == []


def _module_graph() -> dict[str, set[str]]:
    """Module -> the netvigil modules it imports."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        name = ".".join(("netvigil", *rel.parts)).removesuffix(".__init__")
        targets = graph.setdefault(name, set())
        self_reference = {name}
        # every import, at module level or inside a function: a lazy import is still a dependency
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("netvigil"):
                # ``from netvigil.detect import season`` imports the module netvigil.detect.season
                targets.update(f"{node.module}.{a.name}" if _is_module(f"{node.module}.{a.name}") else node.module
                               for a in node.names)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("netvigil"))
        targets -= self_reference
    return graph


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_modules():
    assert _cycles(_module_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_store_speaks_sql():
    speakers = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                      if p.relative_to(PACKAGE).parts[0] != "store"
                      and any(k in p.read_text(encoding="utf-8") for k in ("SELECT ", "INSERT INTO", "CREATE TABLE")))
    assert speakers == ["signals/ooni_sql.py"], speakers  # that one parses OONI's SQL dumps, it runs none
