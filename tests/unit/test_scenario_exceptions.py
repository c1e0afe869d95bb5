"""The README's list of scenarios that do not hold on one backend is the suite's own marks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from readme import block

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scenarios"))

import marks_table  # noqa: E402  (tests/scenarios is no package)


def test_readme_lists_exactly_the_scenarios_marked_not_on():
    assert block("scenario-exceptions") == marks_table.markdown(), (
        "README's list of scenario exceptions is stale: run `python tests/readme.py`"
    )


def test_every_mark_has_a_reason_and_names_a_backend():
    found = marks_table.marks()
    assert found, "no scenario is marked: the README's list would be empty"
    for backend, module, name, reason in found:
        assert backend in ("docker", "kubernetes"), (module, name, backend)
        assert len(reason) > 20, (module, name, reason)


@pytest.mark.parametrize("name,words", [("test_the_process_limit", "The process limit")])
def test_scenario_names_read_as_sentences(name, words):
    assert marks_table.humane(name) == words
