"""The previous release of the hub, installed in a venv of its own for the upgrade test.

The previous release is the last commit before the data layout changed (``datadir.LAYOUT`` 2:
group policies moved from JupyterHub's group properties into the policies' store, the layout file
began). When a later release changes the layout again, ``PREVIOUS`` moves to the last commit
before that change. The venv is built once per commit (a ``git worktree`` of that commit, a
``python -m venv``, ``pip install`` of the tree) and cached under
``/var/cache/stellars-upgrade/<commit>`` (``STELLARS_UPGRADE_CACHE``), like the Kubernetes build.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import REPO

PREVIOUS = "61ccd5addcc4eba47adce983816075efd00d7515"  # README: the last make bench table (layout 1)
CACHE = Path(os.environ.get("STELLARS_UPGRADE_CACHE", "/var/cache/stellars-upgrade"))


def venv_bin(commit: str = PREVIOUS) -> tuple[Path, float]:
    """The bin directory of the release's venv, and the seconds it took to build (0: cached)."""
    home = CACHE / commit
    venv = home / "venv"
    done = home / ".built"
    home.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:  # one build at a time; the second waits and reuses it
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return venv / "bin", 0.0
        began = time.monotonic()
        known = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True)
        if known.returncode != 0:
            raise RuntimeError(f"the upgrade test needs the repository's history: commit {commit} is not in {REPO}")
        shutil.rmtree(venv, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix="stellars-previous-"))
        tree = work / "src"
        try:
            _run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), commit])
            _run([sys.executable, "-m", "venv", str(venv)])
            _run([str(venv / "bin/pip"), "install", "-q", "-c", str(tree / "constraints.txt"), str(tree)])
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], capture_output=True)
            shutil.rmtree(work, ignore_errors=True)
        done.write_text(f"built in {time.monotonic() - began:.0f} s\n")
        return venv / "bin", time.monotonic() - began


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
