"""A policy's host paths checked where the engine finds them. The engine follows symlinks in a
bind source, so ``/srv/data/link`` under an allowed ``/srv/data`` may well be ``/``: the textual
check of the policy model is not enough. The real path of every host source is asked of the
engine's own host (``readlink -m`` in a throw-away container of the lab image, without network,
the allowed directories mounted read-only at their own paths), and must lie in an allowed
directory and touch none of the engine's own paths. Checked when a policy is saved and again at
every start of a lab that mounts a host path (a link made after the save stops the start).

On Kubernetes the tool is a pod, so the path is looked at on the node that pod lands on: a site
with several nodes keeps the allowed directories the same on every node (a shared file system),
as it must for the labs' hostPath mounts anyway. A runtime that cannot run tools keeps the
textual checks only."""

from __future__ import annotations

import logging

from .model import PROTECTED_HOST_PATHS, PolicyError, _under, engine_path

log = logging.getLogger("JupyterHub.policies")
_warned_unsupported: set[str] = set()


async def check(runtime, image: str, mounts: list[dict], roots: list[str], data_root: str | None) -> None:
    """Raise PolicyError naming the first mount whose source leads out of the allowed
    directories or into the engine's own paths."""
    host = [(i, m["source"]) for i, m in enumerate(mounts) if m["source"].startswith("/")]
    if not host:
        return
    protected = (*PROTECTED_HOST_PATHS, *([data_root] if data_root else []))
    for i, source in host:  # the engine's data directory may live anywhere
        engine = engine_path(source, protected)
        if engine:
            raise PolicyError(f"mounts[{i}].source", f"host path {source} reaches the container engine's own {engine}")
    used = sorted({next(r for r in roots if _under(s, [r])) for _, s in host if any(_under(s, [r]) for r in roots)})
    try:
        result = await runtime.run_tool(
            image,
            ["readlink", "-m", "--", *(s for _, s in host)],
            {r: (r, "ro") for r in used},
            timeout=60,
        )
    except NotImplementedError:
        if type(runtime).__name__ not in _warned_unsupported:
            _warned_unsupported.add(type(runtime).__name__)
            log.warning("%s cannot look at host paths: symlinks in policy host paths are not checked", runtime)
        return
    real = [line.strip() for line in result.output.splitlines() if line.strip()]
    if result.exit_code != 0 or len(real) != len(host):
        raise PolicyError(
            f"mounts[{host[0][0]}].source",
            f"the real path of {', '.join(s for _, s in host)} could not be checked on the engine's host "
            f"({result.output.strip()[-200:] or result.exit_code}); nothing was mounted",
        )
    for (i, source), path in zip(host, real, strict=True):
        if not _under(path, roots):
            raise PolicyError(
                f"mounts[{i}].source",
                f"host path {source} leads to {path}, outside the allowed directories ({', '.join(roots)})",
            )
        engine = engine_path(path, protected)
        if engine:
            raise PolicyError(f"mounts[{i}].source", f"host path {source} leads to the container engine's own {engine}")
