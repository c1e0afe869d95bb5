"""The README's list of the promises that do not hold on one backend, written from the scenario
suite's ``not_on`` marks (so the list cannot drift from what the tests skip): the block
``scenario-exceptions`` of tests/readme.py (``python tests/readme.py`` rewrites it), checked by
tests/unit/test_scenario_exceptions.py."""

from __future__ import annotations

import ast
from pathlib import Path

HERE = Path(__file__).resolve().parent
TITLES = {
    "kubernetes": "Scenarios that do not hold on Kubernetes",
    "docker": "Scenarios that hold on Kubernetes only",
}


def marks() -> list[tuple[str, str, str, str]]:
    """(backend, module, scenario, reason) for every ``not_on`` mark, read from the sources (the
    scenario modules need the engine to import, this needs nothing)."""
    found = []
    for path in sorted(HERE.glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            for deco in node.decorator_list:
                if not (isinstance(deco, ast.Call) and ast.unparse(deco.func) == "pytest.mark.not_on"):
                    continue
                reason = next(ast.literal_eval(k.value) for k in deco.keywords if k.arg == "reason")
                for backend in deco.args:
                    found.append((ast.literal_eval(backend), path.name, node.name, reason))
    return found


def humane(test_name: str) -> str:
    words = test_name.removeprefix("test_").replace("_", " ")
    return words[0].upper() + words[1:]


def markdown() -> str:
    lines: list[str] = []
    for backend, title in TITLES.items():
        rows = [m for m in marks() if m[0] == backend]
        if not rows:
            continue
        if lines:
            lines.append("")
        lines += [
            f"{title} (`tests/scenarios`, skipped there with this reason):",
            "",
            "| scenario | why |",
            "| --- | --- |",
        ]
        lines += [f"| {humane(name)} (`{module}`) | {reason} |" for _, module, name, reason in rows]
    return "\n".join(lines)
