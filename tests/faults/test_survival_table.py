"""README.md's "what survives what" table is generated from survival.SCENARIOS, and every row is
proved by exactly one test of this folder (and every such test has its row)."""

from __future__ import annotations

import ast
from pathlib import Path

from readme import block
from survival import SCENARIOS, markdown_table

HERE = Path(__file__).parent


def marked_tests() -> dict[str, list[str]]:
    """scenario key -> the tests marked @survives(key), read from this folder's test modules."""
    found: dict[str, list[str]] = {}
    for module in sorted(HERE.glob("test_*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for deco in node.decorator_list:
                    if isinstance(deco, ast.Call) and getattr(deco.func, "id", "") == "survives":
                        row = deco.args[0]
                        assert isinstance(row, ast.Constant) and isinstance(row.value, str), (
                            f"{module.name}::{node.name}"
                        )
                        found.setdefault(row.value, []).append(f"{module.name}::{node.name}")
    return found


def test_every_scenario_has_one_test_and_every_test_a_scenario():
    found = marked_tests()
    assert set(found) == set(SCENARIOS), set(SCENARIOS) ^ set(found)
    assert all(len(tests) == 1 for tests in found.values()), found


def test_readme_survival_table_is_current():
    assert block("survival-table") == markdown_table(), (
        "README's what-survives-what table is stale: run `python tests/readme.py`"
    )
