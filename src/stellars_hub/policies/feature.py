"""What the policies feature adds to the hub: custom scopes, routes, the admin nav entry, the
pre-spawn step that gives each start its effective lab, and the storage quota checks."""

from __future__ import annotations

from ..feature import BackupVolume, Feature
from ..web.volumesizes import measured_volumes
from .config import GroupPolicies
from .groups import PolicyGroupAPIHandler, adopt
from .handlers import (
    ENV_SCOPE,
    READ_SCOPE,
    WRITE_SCOPE,
    EffectiveLabAPIHandler,
    EnvironmentAPIHandler,
    GroupPolicyAPIHandler,
    PoliciesPage,
    PolicyListAPIHandler,
    StorageListAPIHandler,
    UserStorageAPIHandler,
)
from .hub import policies_for
from .projectapi import GroupProjectAPIHandler, ProjectAPIHandler, ProjectListAPIHandler
from .quota import check_forever


def _spawn_options(c, settings, setdefault) -> None:
    """A lab per need: JupyterHub's spawner options offer the groups' profiles (spawnoptions.py)."""
    from . import spawnoptions

    setdefault(c.Spawner, "options_form", spawnoptions.options_form)
    setdefault(c.Spawner, "options_from_form", spawnoptions.options_from_form)
    setdefault(c.Spawner, "apply_user_options", spawnoptions.apply_user_options)


async def _adopt(platform, app) -> None:
    await adopt(platform, app.db)


async def _project_folders(platform) -> list[BackupVolume]:
    """Every group's project folder (kept ones too), each backed up under its own lock."""
    from . import project_folders, project_lock

    return [
        BackupVolume(f["volume"], "project", project_lock(f["volume"]), group=f["group"])
        for f in await project_folders(platform)
    ]


async def _check_quotas(platform, app) -> None:
    interval = platform.settings(GroupPolicies).quota_check_interval
    await check_forever(policies_for(platform), measured_volumes(platform), app, interval)


FEATURE = Feature(
    name="policies",
    config_classes=(GroupPolicies,),
    scopes={
        READ_SCOPE: {"description": "Read group policies (lab resources and privileges per group)"},
        WRITE_SCOPE: {
            "description": "Change group policies, including granting the Docker socket or privileged mode",
            "subscopes": [READ_SCOPE],
        },
        ENV_SCOPE: {"description": "Read and set a user's own lab environment variables"},
    },
    user_scopes=(f"{ENV_SCOPE}!user",),  # everyone sets their own variables
    # after Settings (40), before Change Password (90)
    nav=({"id": "policies", "label": "Policies", "path": "policies", "admin": True, "order": 45},),
    handlers=(
        (r"/api/storage", StorageListAPIHandler),
        (r"/api/users/([^/]+)/storage", UserStorageAPIHandler),
        (r"/api/policies", PolicyListAPIHandler),
        (r"/api/groups/([^/]+)/policy", GroupPolicyAPIHandler),
        (r"/api/users/([^/]+)/lab", EffectiveLabAPIHandler),
        (r"/api/users/([^/]+)/environment", EnvironmentAPIHandler),
        (r"/policies", PoliciesPage),
        # group project folders
        (r"/api/projects", ProjectListAPIHandler),
        (r"/api/projects/([^/]+)", ProjectAPIHandler),
        (r"/api/groups/([^/]+)/project", GroupProjectAPIHandler),
    ),
    configure=_spawn_options,
    # JupyterHub's group API, so that a deleted group's policy goes with it
    priority_handlers=((r"/api/groups/([^/]+)", PolicyGroupAPIHandler),),
    # after the admin feature's step (built-in groups, GPU decision): see features.py's order
    pre_spawn=lambda platform, spawner: policies_for(platform).pre_spawn(spawner, platform.runtime),
    on_start=_adopt,
    background=(_check_quotas,),
    backup_volumes=_project_folders,
    on_user_renamed=lambda platform, old, new: policies_for(platform).store.rename_user(old, new),
    on_user_deleted=lambda platform, name: policies_for(platform).store.delete_user(name),
    record_users=lambda platform: policies_for(platform).store.user_names(),
)
