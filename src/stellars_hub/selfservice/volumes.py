"""Manage Volumes: list a user's own volumes and remove the chosen ones.

Names are built here from the user name and the configured keys, so the shared volume and
other users' volumes cannot be reached whatever the request says.
"""

from __future__ import annotations

from dataclasses import replace

from .. import naming
from ..errors import BadRequest, Conflict
from ..runtime.base import ContainerRuntime, EngineError, EngineUnavailable, NotFound, RuntimeConflict
from ..web.jsonbody import reject_unknown


def configured(volumes=naming.USER_VOLUMES) -> dict[str, naming.UserVolume]:
    return {v.key: v for v in volumes}


def parse_selection(body, volumes=naming.USER_VOLUMES) -> list[str]:
    """Validate ``{"volumes": [...]}``: a non-empty list of configured keys (BadRequest otherwise)."""
    allowed = configured(volumes)
    if not isinstance(body, dict) or "volumes" not in body:
        raise BadRequest('the body must be a JSON object like {"volumes": ["home"]}')
    reject_unknown(body, ("volumes",))
    keys = body["volumes"]
    if not isinstance(keys, list):
        raise BadRequest(f'"volumes" must be a list of volume names, not {keys!r}')
    if not keys:
        raise BadRequest('"volumes" is empty: name at least one of ' + ", ".join(allowed))
    for key in keys:
        if not isinstance(key, str) or key not in allowed:
            raise BadRequest(f'"volumes": {key!r} is not a volume you can reset; choose from ' + ", ".join(allowed))
    return list(dict.fromkeys(keys))  # duplicates collapse, order kept


async def describe(runtime: ContainerRuntime, volumes, names: dict[str, str], sizes=None) -> list[dict]:
    """``names``: key -> volume name of the server's volumes; ``sizes``: a VolumeSizeCache to read
    sizes from (None: ask the engine now)."""
    info = await runtime.volumes(list(names.values()), with_sizes=sizes is None)
    if sizes is not None:
        known = sizes.sizes(names.values())
        info = {n: replace(i, size_bytes=known.get(n)) for n, i in info.items()}
    return [
        {
            "key": v.key,
            "name": names[v.key],
            "description": v.description,
            "mount": v.mount,
            "exists": info[names[v.key]].exists,
            "size_bytes": info[names[v.key]].size_bytes,
        }
        for v in volumes
    ]


async def remove(runtime: ContainerRuntime, keys: list[str], all_names: dict[str, str]) -> list[dict]:
    """Remove the chosen volumes; refuse everything (Conflict) when any is held by a container.
    ``all_names``: key -> volume name of the server's volumes."""
    names = {k: all_names[k] for k in keys}
    info = await runtime.volumes(list(names.values()))
    held = {k: info[n].used_by for k, n in names.items() if info[n].used_by}
    if held:
        what = "; ".join(f"{names[k]} is used by container {', '.join(c)}" for k, c in held.items())
        raise Conflict(f"nothing was removed: {what}. Remove that container first (or ask an administrator)")
    results = []
    for key, name in names.items():
        if not info[name].exists:
            results.append({"volume": key, "name": name, "status": "not_found"})
            continue
        try:
            await runtime.remove_volume(name)
            results.append({"volume": key, "name": name, "status": "removed"})
        except NotFound:
            results.append({"volume": key, "name": name, "status": "not_found"})
        except RuntimeConflict as exc:  # taken by a container since the check above
            results.append({"volume": key, "name": name, "status": "in_use", "error": str(exc)})
        except EngineUnavailable:
            if not results:
                raise  # nothing done yet: a plain 503
            results.append(
                {"volume": key, "name": name, "status": "failed", "error": "the Docker engine stopped answering"}
            )
        except EngineError as exc:
            results.append({"volume": key, "name": name, "status": "failed", "error": str(exc)})
    return results
