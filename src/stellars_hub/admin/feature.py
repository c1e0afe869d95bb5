"""What the admin feature adds to the hub: the Settings page and API, the readiness endpoint,
the logo and footer, the Docker-privilege groups and the GPU decision before every spawn."""

from __future__ import annotations

import logging

from ..feature import Feature
from ..lab.config import Gpu
from . import branding, groups, version
from .config import Branding
from .gpu import GpuDecision
from .handlers import SETTINGS_SCOPE, ReadinessHandler, SettingsAPIHandler, SettingsPage

log = logging.getLogger("JupyterHub.stellars")


def _configure(c, s, setdefault) -> None:
    logo = branding.resolve(s(Branding).logo_uri)
    if logo.file:
        setdefault(c.JupyterHub, "logo_file", logo.file)
    if logo.warning:
        log.warning(logo.warning)
    configured = dict(c.JupyterHub.load_groups) if "load_groups" in c.JupyterHub else {}
    c.JupyterHub.load_groups = {**groups.load_groups(), **configured}


def _template_vars(s) -> dict:
    return {
        "stellars_footer": version.footer_line(),
        "stellars_logo_url": branding.resolve(s(Branding).logo_uri).url or "",
    }


def gpu_decision(platform) -> GpuDecision:
    gpu = platform.settings(Gpu)
    return platform.shared("gpu", lambda: GpuDecision(gpu.enabled, gpu.nvidia_image, platform.runtime))


def _on_start(platform, app) -> None:
    mode = platform.settings(Gpu).enabled
    if mode == "2":
        gpu_decision(platform).start()  # in the background; a spawn before the answer waits for it
    else:
        log.info("GPU: %s (JUPYTERHUB_GPU_ENABLED=%s)", "on" if mode == "1" else "off", mode)


async def _pre_spawn(platform, spawner) -> None:
    groups.apply_to_spawner(spawner)
    if platform.settings(Gpu).enabled == "2":
        spawner.gpu_enabled = await gpu_decision(platform).enabled()


FEATURE = Feature(
    name="admin",
    config_classes=(Branding,),
    scopes={SETTINGS_SCOPE: {"description": "Read the hub's effective settings (secrets masked)"}},
    # after Authorize Users (10), Activity (20) and Notifications (30); before Change Password (90)
    nav=({"id": "settings", "label": "Settings", "path": "settings", "admin": True, "order": 40},),
    handlers=(
        (r"/settings", SettingsPage),
        (r"/api/settings", SettingsAPIHandler),
        (r"/readiness", ReadinessHandler),
    ),
    configure=_configure,
    template_vars=_template_vars,
    on_start=_on_start,
    pre_spawn=_pre_spawn,
)
