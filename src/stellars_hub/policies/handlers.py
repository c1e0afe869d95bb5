"""Group policy API and page (admins, or tokens with the custom policy scopes), and each user's
effective lab and own environment variables (themselves, or admins)."""

from __future__ import annotations

from jupyterhub import orm
from jupyterhub.scopes import has_scope
from tornado import web

from ..admin import DESCRIPTIONS
from ..web.base import HandlerMixin, StellarsAPIHandler, StellarsPageHandler
from ..web.errors import http_error
from ..web.permissions import allowed, holds_globally, requires, requires_global
from ..web.volumesizes import measured_volumes
from . import hub, model, profiles, store

READ_SCOPE = "custom:policies:read"
WRITE_SCOPE = "custom:policies:write"
ENV_SCOPE = "custom:environment:write"
# JupyterHub's admin role cannot be given custom scopes: its admin:groups grants the same
READ_ALLOWED = (READ_SCOPE, WRITE_SCOPE, "admin:groups")
WRITE_ALLOWED = (WRITE_SCOPE, "admin:groups")


def group_model(group, policies: hub.Policies, stored: dict, with_values: bool) -> dict:
    """One group on the Policies page. Variables' values only for callers who may change
    policies (a read scope shows the names)."""
    row = stored.get(group.name)
    policy = row[1] if row and row[0] == group.id else {}
    shown = policy if with_values or "env" not in policy else {**policy, "env": model.masked_env(policy["env"])}
    return {
        "name": group.name,
        "policy": shown,
        "built_in": store.BUILT_IN.get(group.name),
        "description": DESCRIPTIONS.get(group.name) or (group.properties or {}).get("description", ""),
        "members": sorted(u.name for u in group.users),
        "valid": _valid(policy, policies),
        # written straight into JupyterHub's group properties: never applied
        "ignored_properties": store.ignored_keys(group),
    }


def _valid(policy: dict, policies) -> str | None:
    """None when the stored policy passes today's validation, else why (e.g. a host path the
    allow-list no longer holds)."""
    try:
        policies.validate(policy)
        return None
    except model.PolicyError as exc:
        return str(exc)


def chosen_profile(eff, spawner) -> dict:
    """What the server's next start gets from its remembered profile (JupyterHub keeps the
    options of its last start): the profile, its image and the limits it sets, or why the
    remembered choice would be refused (no longer offered)."""
    remembered = dict(spawner.orm_spawner.user_options or {}) if spawner.orm_spawner is not None else {}
    values = {"memory_mb": eff.memory_mb, "cpus": eff.cpus, "gpus": eff.gpus, "sources": eff.sources}
    try:
        profile = profiles.choose(eff.profiles, remembered)
    except profiles.ProfileRefused as exc:
        return {"profile": None, "profile_problem": str(exc), "image": None}
    return {
        **profiles.applied(values, profile),
        "profile": profile,
        "profile_problem": None,
        "image": profile["image"] if profile else spawner.image,
    }


class PolicyMixin(HandlerMixin):
    @property
    def policies(self) -> hub.Policies:
        return hub.policies_for(self.platform)

    def may_write_policies(self) -> bool:
        return holds_globally(self, *WRITE_ALLOWED)

    async def group_models(self, groups) -> list[dict]:
        stored = await self.policies.stored()
        return [group_model(g, self.policies, stored, self.may_write_policies()) for g in groups]

    def find_group_or_404(self, name: str):
        group = orm.Group.find(self.db, name)
        if group is None:
            raise http_error(404, f"no group named {name!r}; create it in the admin panel (Groups) first")
        return group


class PolicyListAPIHandler(PolicyMixin, StellarsAPIHandler):
    @requires_global(*READ_ALLOWED)
    async def get(self):
        groups = self.db.query(orm.Group).order_by(orm.Group.name).all()
        self.write_json(
            {
                "groups": await self.group_models(groups),
                "defaults": self.policies.defaults(False).__dict__,
                "host_paths": self.policies.host_paths,
            }
        )


class GroupPolicyAPIHandler(PolicyMixin, StellarsAPIHandler):
    @requires_global(*READ_ALLOWED)
    async def get(self, group_name):
        (model_,) = await self.group_models([self.find_group_or_404(group_name)])
        self.write_json(model_)

    @requires_global(*WRITE_ALLOWED)
    async def put(self, group_name):
        target = f"group:{group_name}"
        group = self.find_group_or_404(group_name)
        body = self.json_body()
        actor = self.current_user.name if self.current_user else "(token)"
        groups = dict(self.db.query(orm.Group.name, orm.Group.id).all())
        try:
            policy = self.policies.validate(body)
            await self.policies.check_real_paths(policy.get("mounts", []))
            # the conflict check and the write are one transaction of the store: no other
            # request can save a conflicting policy in between
            before = await self.policies.store.put_group_policy(group.name, group.id, policy, groups, actor)
        except model.PolicyError as exc:
            self.audit(target, "policy-update", "refused 400", reason=str(exc), field=exc.field)
            raise http_error(400, f"{exc}; nothing was saved") from None
        # variables' values may be secrets: the audit names them only
        self.audit(target, "policy-update", "ok", before=model.redacted(before), after=model.redacted(policy))
        (model_,) = await self.group_models([group])
        self.write_json(model_)


class PoliciesPage(PolicyMixin, StellarsPageHandler):
    @web.authenticated
    async def get(self):
        if not any(has_scope(s, self.parsed_scopes, db=self.db) for s in READ_ALLOWED):
            raise web.HTTPError(403, "Only administrators may see group policies.")
        html = await self.render_template(
            "policies.html", host_paths=self.policies.host_paths, built_in=store.BUILT_IN, descriptions=DESCRIPTIONS
        )
        self.finish(html)


class EffectiveLabAPIHandler(PolicyMixin, StellarsAPIHandler):
    """What the user's next lab gets, and which groups gave it."""

    @requires("read:servers", "admin:users")
    async def get(self, user_name):
        user = self.find_user_or_404(user_name)
        eff = await self.policies.effective(user.orm_user, user.spawner.gpu_enabled)
        lab = {**eff.as_json(), **chosen_profile(eff, user.spawner)}
        if not (allowed(self, ENV_SCOPE, user.name) or allowed(self, "admin:users", user.name)):
            # values only for who may read them on /environment: the user and user admins
            lab["env"], lab["user_env"] = model.masked_env(lab["env"]), model.masked_env(lab["user_env"])
        self.write_json({"username": user.name, "lab": lab, "groups": sorted(g.name for g in user.orm_user.groups)})


class EnvironmentAPIHandler(PolicyMixin, StellarsAPIHandler):
    @requires(ENV_SCOPE, "admin:users")
    async def get(self, user_name):
        user = self.find_user_or_404(user_name)
        env = await self.policies.store.env(user.name)
        self.write_json({"username": user.name, "environment": env})

    @requires(ENV_SCOPE, "admin:users")
    async def put(self, user_name):
        user = self.find_user_or_404(user_name)
        body = self.json_body()
        try:
            if not isinstance(body, dict) or set(body) != {"environment"}:
                raise model.PolicyError("environment", 'the body must be {"environment": {NAME: value, ...}}')
            env = model.validate_env(body["environment"], "environment", self.policies.platform_names)
            stored = await self.policies.stored()
            for group in user.orm_user.groups:
                policy = self.policies.checked_policy(group, stored) or {}
                for name in env:
                    if name in policy.get("env", {}):
                        raise model.PolicyError(
                            f"environment.{name}", f"group {group.name} sets {name} for your lab; its value is used"
                        )
        except model.PolicyError as exc:
            self.audit(user.name, "environment-update", "refused 400", reason=str(exc), field=exc.field)
            raise http_error(400, f"{exc}; nothing was saved") from None
        async with self.user_locks.exclusive(user.name, "environment-update"):
            await self.policies.store.put_env(user.name, env)
        # values may be secrets: the audit names the variables, never their values
        self.audit(user.name, "environment-update", "ok", names=sorted(env))
        self.write_json(
            {
                "username": user.name,
                "environment": env,
                "applies": "at the next start of the server (Restart Server recreates it)",
            }
        )


class UserStorageAPIHandler(PolicyMixin, StellarsAPIHandler):
    """A user's storage use against their soft quota."""

    @requires("read:servers", "admin:users")
    async def get(self, user_name):
        from . import quota

        user = self.find_user_or_404(user_name)
        self.write_json(await quota.user_status(self.policies, measured_volumes(self.platform), user))


class StorageListAPIHandler(PolicyMixin, StellarsAPIHandler):
    """Every user with a quota, use against it; ``?over=1`` only those over (admins)."""

    @requires_global(*READ_ALLOWED, "admin:users")
    async def get(self):
        from . import quota

        users = [self.users[u] for u in self.db.query(orm.User).order_by(orm.User.name)]
        rows = await quota.statuses(self.policies, measured_volumes(self.platform), users)
        if self.get_argument("over", "") == "1":
            rows = [r for r in rows if r["over"]]
        self.write_json({"users": rows})
