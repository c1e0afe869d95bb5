"""Backups in Chromium: the admin overview, the user's "last backup" line, and restoring a
volume from a generation on /hub/manage/<user> (confirmation dialog)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from browser import open_admin_page
from harness import LAB_IMAGE, REPO, RUN_PREFIX, engine, read_volume_file

from stellars_hub import naming

SCREENSHOTS = REPO / "docs" / "screenshots"
TARGET = Path(f"/tmp/stellars-backups-e2e-{RUN_PREFIX}")


def cookies_of(page, session):
    page.context.add_cookies(
        [{"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": c.path or "/"} for c in session.cookies]
    )


def put_file(volume: str, text: str) -> None:
    engine().containers.run(
        LAB_IMAGE,
        ["sh", "-c", f"printf '%s' '{text}' > /v/notes.txt"],
        entrypoint=[],
        user="0",
        remove=True,
        network_mode="none",
        volumes={volume: {"bind": "/v", "mode": "rw"}},
    )


def test_backups_overview_last_backup_and_restore(make_hub, browser):
    TARGET.mkdir(parents=True, exist_ok=True)
    try:
        hub = make_hub(
            JUPYTERHUB_BACKUP_INTERVAL="3600",  # the round at start, then only the one asked for below
            JUPYTERHUB_BACKUP_TARGET=str(TARGET),
            JUPYTERHUB_BACKUP_KEEP="3",
            JUPYTERHUB_BACKUP_IMAGE=LAB_IMAGE,
        )
        admin = hub.admin_session()
        name, session = hub.new_user("bp")
        vol = naming.user_volume_names(name)["workspace"]
        engine().volumes.create(vol)
        put_file(vol, "kept safe")
        # a round asked for now (Back up now), so no scheduled round backs up the overwrite below
        deadline = time.monotonic() + 120
        while hub.api(admin, "POST", "backups/run").status_code != 202:  # 409 while the start's round runs
            assert time.monotonic() < deadline, "no backup round could be started"
            time.sleep(1)
        while not list(TARGET.glob(f"{vol}_*.tar.gz")) and time.monotonic() < deadline:
            time.sleep(1)

        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        cookies_of(page, admin)
        page.goto(hub.hub_url + "home")
        open_admin_page(page, "backups")
        row = f'#backups-table tr[data-username="{name}"][data-volume="workspace"]'
        page.wait_for_selector(row)
        assert page.text_content(f"{row} td.backups-outcome") in ("ok", "unchanged")
        state = '#backups-table tr[data-username="(hub)"][data-volume="state"]'  # the hub's own state
        assert page.text_content(f"{state} td.backups-outcome") in ("ok", "unchanged")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "backups-page.png"), full_page=True)

        # the file is lost; the admin restores the workspace from its backup
        put_file(vol, "oops, overwritten")
        page.goto(hub.hub_url + f"manage/{name}")
        button = '#backup-restore-list [data-volume="workspace"] .backup-restore-button'
        page.wait_for_selector(f"{button}:not([disabled])")
        page.click(button)
        page.wait_for_function("getComputedStyle(document.querySelector('#backup-restore-dialog')).opacity === '1'")
        assert vol in page.text_content("#backup-restore-what")
        page.screenshot(path=str(SCREENSHOTS / "backup-restore-dialog.png"))
        for _ in range(30):  # a scheduled round may hold the user's lock for a moment
            page.click("#backup-restore-confirm")
            page.wait_for_selector("#backup-restore-result.alert")
            if "already running" not in page.text_content("#backup-restore-result"):
                break
            time.sleep(0.5)
            page.click(button)
            page.wait_for_function("getComputedStyle(document.querySelector('#backup-restore-dialog')).opacity === '1'")
        assert page.text_content("#backup-restore-result").startswith("Restored " + vol)
        assert read_volume_file(vol, "notes.txt") == "kept safe"

        # the user sees when their files were last backed up
        user_context = browser.new_context()
        user_page = user_context.new_page()
        cookies_of(user_page, session)
        user_page.goto(hub.hub_url + "home")
        user_page.wait_for_selector("#backup-status:not(.d-none)")
        assert user_page.text_content("#backup-status").startswith("Last backup of your files: ")
        assert "never" not in user_page.text_content("#backup-status")
        user_context.close()
        context.close()
    finally:
        shutil.rmtree(TARGET, ignore_errors=True)
