"""The package's import graph (every import, also those inside functions): no loop, and the layers
of the architecture kept (a lower layer never imports a higher one).

Layers, lowest first: the foundation (names, the lab spec, the engine interface, stores, the
settings loader, web helpers), the platform, the web base handlers, features and backends side
by side, and the config entry point that wires them together. A feature may use another
feature's public functions (its package ``__init__``) and settings class (its ``config``), never
a backend; a backend never a feature."""

from __future__ import annotations

import ast
import pathlib
from collections import defaultdict

import stellars_hub

ROOT = pathlib.Path(stellars_hub.__file__).parent
PKG = "stellars_hub"
FEATURES = (
    "access",
    "accounts",
    "activity",
    "admin",
    "backups",
    "batch",
    "capacity",
    "events",
    "notifications",
    "policies",
    "reconcile",
    "selfservice",
    "session",
    "sharing",
    "usage",
)
ENTRY = {"features", "hubconfig", "jupyterhub_config", "cli", "backends"}  # backends/__init__: the selection
PLATFORM = {"platform", "feature"}
WEB_BASE = {"web.base"}


def module_names() -> dict[str, pathlib.Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path  # "" is the package itself
    return found


def imports(modules: dict[str, pathlib.Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = [p for p in package[: len(package) - (node.level - 1)] if p]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                    if module != PKG and not module.startswith(PKG + "."):
                        continue
                    module = module[len(PKG) + 1 :]
                # "from package import module" imports that module; "from module import name" the module
                named = [f"{module}.{a.name}".strip(".") for a in node.names]
                targets = [t for t in named if t in modules] or [module]
            else:
                continue
            for target in targets:
                if isinstance(node, ast.Import):
                    if not target.startswith(PKG + "."):
                        continue
                    target = target[len(PKG) + 1 :]
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def layer(module: str) -> int:
    top = module.split(".")[0]
    if module in ENTRY:
        return 4
    if top in FEATURES or top == "backends":
        return 3
    if module in WEB_BASE:
        return 2
    if module in PLATFORM:
        return 1
    return 0


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
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


def upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports from a lower layer into a higher one, and across the feature/backend divide."""
    wrong = []
    for source, targets in graph.items():
        for target in targets:
            s, t = source.split(".")[0], target.split(".")[0]
            if layer(target) > layer(source):
                wrong.append((source, target))
            elif layer(source) == layer(target) == 3 and (s == "backends") != (t == "backends"):
                wrong.append((source, target))  # a feature importing a backend, or the other way
            elif s in FEATURES and t in FEATURES and s != t and target not in (t, f"{t}.config"):
                # another feature's internals: its package (public functions) and its settings
                # class (c.<Class>.* is public anyway) are not
                wrong.append((source, target))
    return sorted(wrong)


def test_the_import_graph_has_no_loop():
    assert loops(imports(module_names())) == []


def test_no_layer_imports_a_higher_one():
    assert upward(imports(module_names())) == []
