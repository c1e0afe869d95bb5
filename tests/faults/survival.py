"""What survives what: one row per fault scenario of tests/faults, each proved by the test marked
``@survives(key)``. README.md's table (its ``survival-table`` block) is generated from these rows
(``python tests/readme.py``); test_survival_table.py fails when the README is stale, when a row
has no test or a test no row."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    fault: str  # what happens to the hub
    survives: str  # what the scenario's test checks is still there, or done, afterwards
    recovery: str  # what brings the hub back into step


SCENARIOS: dict[str, Scenario] = {
    "kill-during-restart": Scenario(
        "The hub killed (SIGKILL) during Restart Server, while the engine restarts the lab",
        "the lab (running, the same container, answering through the proxy), its files; the user restarts again",
        "the restarted hub finds the lab running and routes to it again",
    ),
    "kill-during-reset": Scenario(
        "The hub killed during Manage Volumes, one of two chosen volumes removed",
        "the volume not chosen and its files; the user resets again (no lock left behind)",
        "the per-user lock lives in the hub's memory and goes with it",
    ),
    "kill-during-rename": Scenario(
        "The hub killed during a rename, after the hub's commit, before the features' records moved",
        "login with the new name and password, the volumes, the user's variables, consent and "
        "broadcast history under the new name; nothing left under the old one",
        "the rename was written down before its first step and is completed at the next start",
    ),
    "kill-during-delete": Scenario(
        "The hub killed while deleting a user with their volumes, the volumes not removed yet",
        "nothing of the user: login, records, volumes and the kept-volumes entry all gone; other users' volumes untouched",
        "the delete was written down before its first step and is completed at the next start",
    ),
    "kill-during-batch": Scenario(
        "The hub killed during a batch stop, one lab stopped and one being stopped",
        "each lab either running or gone, as the hub says; files; the user starts again",
        "labs found dead at start-up are stopped and what they left is removed",
    ),
    "kill-during-restore": Scenario(
        "The hub killed during a volume restore from a backup, while it waits for the restore's container",
        "the restore runs to its end (the volume holds the archive's files); no container holds the volume: "
        "the admin restores again",
        "tools carry the hub's id and run: its next start removes those an earlier run left, once each ended, "
        "and writes what each worked on and how it ended to the audit log",
    ),
    "restore-outlives-hub": Scenario(
        "The hub killed during a long restore and started again while the restore still writes the volume",
        "the restore, never cut short; the user's start is refused with the reason (503, Retry-After) "
        "until it ended, then the lab starts on the restored files; other users start as usual",
        "the restarted hub knows which volumes an earlier run's tools still work on and starts no lab on them",
    ),
    "kill-during-hub-backup": Scenario(
        "The hub killed while a backup round takes its own state; `stellars-hub restore-state` killed half-way",
        "every archive written before stays whole and no partial one is listed; the restarted hub's first round "
        "writes a complete one, which restores; a killed restore leaves the data directory as it was",
        "a round builds its state apart and lists it only when complete; restore-state unpacks beside the data "
        "directory and clears what an interrupted one left",
    ),
    "lab-killed": Scenario(
        "A lab killed from outside (`docker kill`, the out-of-memory killer ending its main process)",
        "files; no container or network left: Manage Volumes works at once; the user starts again",
        "JupyterHub notices at its next poll; the post-stop step removes what the lab left",
    ),
    "engine-restart": Scenario(
        "The Docker engine restarted under running labs (gone, its labs stopped, back)",
        "every file and record; no container or network left; the users start again",
        "the hub keeps the labs while the engine does not answer, then stops the dead ones and removes their leftovers",
    ),
    "proxy-killed": Scenario(
        "The proxy (configurable-http-proxy) killed",
        "every route: running labs answer through the proxy again",
        "JupyterHub starts its proxy again and restores the routes (checked every 5 s)",
    ),
    "disk-full": Scenario(
        "The data directory's disk full",
        "reads (pages, APIs); every platform write answers 507 with the reason and changes nothing "
        "(a refused broadcast is neither sent nor in the history); all writes work once space is freed",
        "writes are refused before they begin; `/hub/readiness` names the full disk",
    ),
    "database-locked": Scenario(
        "The hub's database, or a store, held locked by another program",
        "a bounded wait, then 503 with the reason, nothing half done; all works once the lock is released",
        "`/hub/readiness` names the locked files",
    ),
}


def survives(key: str):
    """Mark the test that proves a row (the key must be one of SCENARIOS)."""
    if key not in SCENARIOS:
        raise KeyError(f"no scenario {key!r} in survival.SCENARIOS")

    def mark(test):
        test.survival_scenario = key
        return test

    return mark


def markdown_table() -> str:
    lines = [
        "| Fault | What survives (checked by its test) | How the hub recovers | Test |",
        "| --- | --- | --- | --- |",
    ]
    for key, s in SCENARIOS.items():
        lines.append(f"| {s.fault} | {s.survives} | {s.recovery} | `{key}` |")
    return "\n".join(lines)
