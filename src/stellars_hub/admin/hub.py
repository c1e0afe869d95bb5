"""The admin feature's hub wiring, called once from hubconfig.apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from traitlets.log import get_logger

from ..settings import Settings
from . import branding, groups, routes, version
from .gpu import GpuDecision


@dataclass
class Wiring:
    template_vars: dict = field(default_factory=dict)
    pre_spawn: Callable | None = None  # async fn(spawner), run before every spawn
    gpu: GpuDecision | None = None


def configure(c, s: Settings, log=None) -> Wiring:
    log = log or get_logger()

    logo = branding.resolve(s["JUPYTERHUB_LOGO_URI"])
    if logo.file:
        c.JupyterHub.logo_file = logo.file
    if logo.warning:
        log.warning(logo.warning)

    c.JupyterHub.load_groups = {**groups.load_groups()}
    c.StellarsAuthenticator.priority_handlers = list(routes.PRIORITY_HANDLERS)

    mode = s["JUPYTERHUB_GPU_ENABLED"]
    decision = GpuDecision(mode, s["JUPYTERHUB_NVIDIA_IMAGE"])
    decision.start()
    if mode != "2":
        log.info("GPU: %s (JUPYTERHUB_GPU_ENABLED=%s)", "on" if mode == "1" else "off", mode)

    async def pre_spawn(spawner) -> None:
        groups.apply_to_spawner(spawner)
        if mode == "2":
            spawner.gpu_enabled = await decision.enabled()

    footer = version.footer_line()
    return Wiring(
        template_vars={"stellars_footer": footer, "stellars_logo_url": logo.url or ""},
        pre_spawn=pre_spawn,
        gpu=decision,
    )
