"""JupyterHub's spawner options, wired to the groups' profiles (profiles.py): the spawn page's
form (JupyterHub's Start and a named server's start show it when the user's groups offer
profiles, nothing otherwise), the form's fields as ``user_options``, and ``apply_user_options``,
JupyterHub's hook for every start with options (the spawn form, ``POST .../server`` with a body,
the options JupyterHub remembered for the server), which refuses what the user may not have.
The same rule runs again when the lab is built (``hub.Policies.spec_for``)."""

from __future__ import annotations

import logging

from tornado import web

from ..lab.mixin import LabSpawnerMixin
from ..platform import Platform
from . import profiles
from .hub import policies_for

log = logging.getLogger("JupyterHub.policies")


async def _offers(spawner) -> list[dict]:
    policies = policies_for(Platform.current())
    return (await policies.effective(spawner.user.orm_user, spawner.gpu_enabled)).profiles


async def options_form(spawner) -> str:
    """``Spawner.options_form``: the offered profiles, the server's remembered one selected."""
    if not isinstance(spawner, LabSpawnerMixin):
        return ""
    return profiles.options_form(await _offers(spawner), (spawner.user_options or {}).get(profiles.OPTION))


def options_from_form(formdata: dict) -> dict:
    """``Spawner.options_from_form``."""
    return profiles.options_from_form(formdata)


async def apply_user_options(spawner, user_options) -> None:
    """``Spawner.apply_user_options``: a 400 naming what is not offered; otherwise the choice by
    its name, remembered by JupyterHub for the server's next start (and Restart Server)."""
    if not isinstance(spawner, LabSpawnerMixin):
        return
    try:
        profile = profiles.choose(await _offers(spawner), user_options)
    except profiles.ProfileRefused as exc:
        # JupyterHub saved the refused options as the server's defaults: put back the last
        # accepted ones, so that the next start without options is not refused for them too
        spawner.orm_spawner.user_options = dict(spawner.accepted_user_options)
        spawner.user_options = dict(spawner.accepted_user_options)
        spawner.user.db.commit()
        log.warning("Refused a start of %s: %s", spawner._log_name, exc)
        raise web.HTTPError(400, f"{exc}; nothing was started") from None
    chosen = {profiles.OPTION: profile["name"]} if profile else {}
    if chosen != user_options:
        spawner.user_options = dict(chosen)
        spawner.orm_spawner.user_options = dict(chosen)
        spawner.user.db.commit()
    spawner.accepted_user_options = dict(chosen)
