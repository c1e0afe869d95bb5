"""The tools a killed hub left: each carries the hub's id and its process's run, and the next
start removes an earlier run's tools once each ended, never one still running (a restore cut
short would leave a volume half emptied), and never the tools of its own run (its engine
answers for that: ``earlier_tools``). The real engine's side: tests/faults/test_restore_faults.py."""

from __future__ import annotations

import pytest

from stellars_hub.backends.kubernetes import toolpod
from stellars_hub.reconcile import tools
from stellars_hub.runtime.base import RUN_ID, TOOL_HUB_LABEL, TOOL_RUN_LABEL, EngineUnavailable, LabObject


class Engine:
    """The engine's answers, one list of an earlier run's tools per look."""

    def __init__(self, looks):
        self.looks, self.removed = list(looks), []

    async def earlier_tools(self, hub_id):
        assert hub_id == "hub1"
        look = self.looks.pop(0) if len(self.looks) > 1 else self.looks[0]
        if isinstance(look, Exception):
            raise look
        return [t for t in look if t.name not in self.removed]

    async def remove_tool(self, name):
        self.removed.append(name)


class Platform:
    hub_id = "hub1"

    def __init__(self, runtime):
        self.runtime = runtime
        self._shared = {}

    def shared(self, key, factory):
        return self._shared.setdefault(key, factory())


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(tools, "POLL", 0)


async def test_ended_tools_go_at_once_a_running_one_once_it_ended():
    restoring = LabObject("restore", True)
    engine = Engine(
        [
            [LabObject("ended", False), restoring],
            [restoring],  # still running: waited for
            [LabObject("restore", False)],
        ]
    )
    assert [t["tool"] for t in await tools.sweep(Platform(engine), None)] == ["ended", "restore"]
    assert engine.removed == ["ended", "restore"]
    assert engine.looks == [[LabObject("restore", False)]]  # every look taken, none skipped


async def test_the_volumes_a_running_tool_works_on_are_held_until_it_ended():
    restoring = LabObject("restore", True, ("jupyterlab-ann_workspace",))
    seen = []

    class Watched(Engine):
        async def earlier_tools(self, hub_id):
            seen.append(set(tools.held(platform).volumes))  # what a start found before this look
            return await super().earlier_tools(hub_id)

    engine = Watched([[LabObject("backup", False, ("jupyterlab-bob_home",)), restoring], [restoring], []])
    platform = Platform(engine)
    assert not tools.held(platform).looked.is_set()  # a start waits for the first look
    await tools.sweep(platform, None)
    assert seen == [set(), {"jupyterlab-ann_workspace"}, {"jupyterlab-ann_workspace"}]  # an ended tool holds nothing
    assert tools.held(platform).volumes == frozenset() and tools.held(platform).looked.is_set()


async def test_what_each_removed_tool_worked_on_and_how_it_ended_is_reported():
    engine = Engine(
        [[LabObject("restore", False, ("jupyterlab-ann_workspace",), 0), LabObject("copy", False, ("a", "b"), 2)]]
    )
    assert await tools.sweep(Platform(engine), None) == [
        {"tool": "restore", "volumes": ["jupyterlab-ann_workspace"], "ended": "ok"},
        {"tool": "copy", "volumes": ["a", "b"], "ended": "failed (exit 2)"},
    ]


async def test_a_tool_running_longer_than_any_tool_may_is_removed(monkeypatch):
    monkeypatch.setattr(tools, "LONGEST", 0)
    engine = Engine([[LabObject("stuck", True)]])
    assert await tools.sweep(Platform(engine), None) == [{"tool": "stuck", "volumes": [], "ended": "cut short"}]


async def test_an_engine_that_does_not_answer_leaves_them_for_the_next_start():
    engine = Engine([EngineUnavailable("down")])
    assert await tools.sweep(Platform(engine), None) == []


def test_tools_carry_the_hub_and_the_run_only_in_a_hub(tmp_path):
    from stellars_hub.backends.docker.runtime import DockerRuntime

    runtime = DockerRuntime()
    assert runtime.tool_labels() == {}  # a command-line tool: nothing to sweep
    runtime.owner = "hub1"
    labels = runtime.tool_labels()
    assert labels == {TOOL_HUB_LABEL: "hub1", TOOL_RUN_LABEL: RUN_ID}
    pod = toolpod.manifest("stellars-tool-x", "img", ["true"], {}, labels=labels)
    assert pod["metadata"]["labels"][TOOL_HUB_LABEL] == "hub1"
    assert pod["metadata"]["labels"][TOOL_RUN_LABEL] == RUN_ID
