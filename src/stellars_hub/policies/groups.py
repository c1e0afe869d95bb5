"""Group policies follow JupyterHub's groups: a deleted group's policy goes with it, and the
policies an earlier version kept in group properties are taken over once.

JupyterHub has no group lifecycle hook (and no rename of groups): its group API's DELETE is served
by ``PolicyGroupAPIHandler``, JupyterHub's own handler registered ahead of it, which drops the
policy after JupyterHub deleted the group and keeps its project folder (mounted by nobody, until an
admin removes it). Groups deleted any other way (the database edited by
hand) lose their policy at the next start of the hub (``adopt``), and a store row never applies to
a later group of the same name in the meantime (rows carry the group's id)."""

from __future__ import annotations

import logging

from jupyterhub import orm
from jupyterhub.apihandlers.groups import GroupAPIHandler

from ..web import audit
from ..web.base import StellarsMixin
from . import model, store
from .hub import policies_for

log = logging.getLogger("JupyterHub.policies")


class PolicyGroupAPIHandler(StellarsMixin, GroupAPIHandler):
    """JupyterHub's ``/hub/api/groups/<name>``: its scope checks and answers unchanged; a delete
    also removes the group's policy."""

    platform_methods = ()  # JupyterHub decides who may do what here (permission matrix: no rows)

    async def delete(self, group_name):
        group = orm.Group.find(self.db, group_name)
        super().delete(group_name)  # JupyterHub's scope check (delete:groups) and deletion
        if group is None:
            return
        policies = policies_for(self.platform)
        remaining = dict(self.db.query(orm.Group.name, orm.Group.id).all())
        dropped = await policies.store.forget_groups(remaining)
        if group_name in dropped:
            self.audit(f"group:{group_name}", "policy-delete", "ok", reason="group deleted")
        # its project folder is kept (never removed silently) until an admin removes it
        for folder in await policies.store.keep_orphan_projects(remaining):
            self.audit(
                f"group:{folder['group_name']}", "project-kept", "ok", volume=folder["volume"], reason="group deleted"
            )


async def adopt(platform, db) -> None:
    """At start-up: take over the policies kept in group properties (once per data directory,
    audited with variable names only), then drop rows of groups that no longer exist."""
    policies = policies_for(platform)
    groups = db.query(orm.Group).all()
    found = {
        g.name: (g.id, (g.properties or {})[store.KEY])
        for g in groups
        if isinstance((g.properties or {}).get(store.KEY), dict) and (g.properties or {})[store.KEY]
    }
    imported = await policies.store.import_group_policies(found)
    if imported is not None:
        for name in imported:
            audit.record_for(
                platform, "(upgrade)", f"group:{name}", "policy-import", "ok", policy=model.redacted(found[name][1])
            )
            group = next(g for g in groups if g.name == name)
            group.properties = {k: v for k, v in (group.properties or {}).items() if k != store.KEY}
        db.commit()
        if imported:
            log.info("Took over the policies of %s from their group properties", ", ".join(imported))
    policies.report_ignored(groups)  # policy keys left in group properties: said at every start
    dropped = await policies.store.forget_groups({g.name: g.id for g in groups})
    for name in dropped:
        audit.record_for(platform, "(hub)", f"group:{name}", "policy-delete", "ok", reason="group no longer exists")
    for folder in await policies.store.keep_orphan_projects({g.name: g.id for g in groups}):
        audit.record_for(
            platform,
            "(hub)",
            f"group:{folder['group_name']}",
            "project-kept",
            "ok",
            volume=folder["volume"],
            reason="group no longer exists",
        )
