"""Admin feature pieces that need no engine: settings view, logo resolution, version line,
the image health check, the composed pre-spawn hook."""

from __future__ import annotations

import re
from importlib import metadata

from harness import REPO

from stellars_hub import settings
from stellars_hub.admin import branding, settings_view, version
from stellars_hub.admin.feature import FEATURE
from stellars_hub.feature import Feature
from stellars_hub.features import configurables
from stellars_hub.platform import Platform


def test_settings_view_lists_every_setting_grouped_in_table_order():
    s = settings.load(configurables(), {})
    grouped = settings_view.by_category(s)
    names = [row["name"] for _, rows in grouped for row in rows]
    declared = settings.declared(configurables())
    assert names == [x.name for x in declared]  # a new variable appears by itself
    assert [c for c, _ in grouped] == list(dict.fromkeys(x.category for x in declared))


def test_settings_view_masks_secrets_and_shortens_long_values():
    long_image = "registry.example.org/team/a-very-long-image-name-for-gpu-probing:2026.11.22-cuda13"
    s = settings.load(
        configurables(),
        {"JUPYTERHUB_DB_URL": "postgresql://hub:pa55word@db/hub", "JUPYTERHUB_NVIDIA_IMAGE": long_image},
    )
    rows = {r["name"]: r for r in settings_view.rows(s)}
    db = rows["JUPYTERHUB_DB_URL"]
    assert "pa55word" not in repr(db) and db["value"] == "********" and not db["is_default"]
    img = rows["JUPYTERHUB_NVIDIA_IMAGE"]
    assert img["value"] == long_image
    assert len(img["short_value"]) == settings_view.SHORT_LENGTH and img["short_value"].endswith("\u2026")
    assert long_image.startswith(img["short_value"][:-1])
    assert rows["JUPYTERHUB_ADMIN"]["short_value"] == "admin" and rows["JUPYTERHUB_ADMIN"]["is_default"]


def test_logo_resolution(tmp_path):
    logo = tmp_path / "logo.svg"
    logo.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert branding.resolve(f"file://{logo}") == branding.Logo(file=str(logo))
    assert branding.resolve("https://example.org/l.png") == branding.Logo(url="https://example.org/l.png")
    missing = branding.resolve(f"file://{tmp_path}/nope.png")
    assert missing.file is None and missing.url is None and "does not exist" in missing.warning


def test_footer_line_reads_installed_versions():
    assert version.footer_line() == (
        f"Stellars JupyterHub DS {metadata.version('stellars-jupyterhub-ds')} | JupyterHub {metadata.version('jupyterhub')}"
    )


def test_image_healthcheck_asks_jupyterhub_whether_the_hub_is_alive():
    # liveness only: an engine outage must never get the hub restarted (readiness says that)
    text = (REPO / "docker" / "hub" / "Dockerfile").read_text()
    check = re.search(r"HEALTHCHECK[^\n]*\\\n\s*CMD (.*)", text).group(1)
    assert "hub/health" in check and "readiness" not in check and "hub/api/" not in check
    assert re.search(r"curl -\w*f", check)  # -f: a 503 makes curl, and so the check, fail


def test_settings_nav_entry_is_admin_only():
    assert FEATURE.nav == ({"id": "settings", "label": "Settings", "path": "settings", "admin": True, "order": 40},)


async def test_pre_spawn_steps_run_in_order_sync_and_async():
    seen = []

    def first(platform, sp):
        seen.append(("sync", sp))

    async def second(platform, sp):
        seen.append(("async", sp))

    platform = Platform(features=[Feature("a", pre_spawn=first), Feature("b"), Feature("c", pre_spawn=second)])
    await platform.before_spawn("spawner")
    assert seen == [("sync", "spawner"), ("async", "spawner")]
