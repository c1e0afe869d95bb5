"""Restart Server and Manage Volumes as a person uses them, in Chromium."""

from __future__ import annotations

from browser import login
from harness import PASSWORD, REPO, engine

from stellars_hub import naming

SCREENSHOTS = REPO / "docs" / "screenshots"


def _started_at(name):
    return engine().api.inspect_container(naming.container_name(name))["State"]["StartedAt"]


def _volumes(name):
    return {v.name for v in engine().volumes.list(filters={"name": naming.container_name(name) + "_"})}


def _shot(page, modal, filename):
    """Screenshot once the dialog's fade-in has finished."""
    page.wait_for_function(f"getComputedStyle(document.querySelector('{modal}')).opacity === '1'")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / filename))


def test_user_restarts_and_resets_from_home_page(hub, page):
    name, session = hub.new_user("ui")
    login(page, hub, name, PASSWORD)  # JupyterHub starts the lab after login
    page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)
    page.goto(hub.hub_url + "home")

    # running: Restart Server only
    page.wait_for_selector("#restart-server:not(.d-none)")
    assert page.is_hidden("#manage-volumes")
    cid = engine().api.inspect_container(naming.container_name(name))["Id"]
    started = _started_at(name)

    # the dialog says precisely what happens; cancel does nothing
    page.click("#restart-server")
    page.wait_for_selector("#restart-modal.show")
    text = page.inner_text("#restart-modal")
    assert naming.container_name(name) in text
    assert "Unsaved notebook state is lost" in text and "Files on disk" in text and "are safe" in text
    _shot(page, "#restart-modal", "restart-dialog.png")
    page.click("#restart-cancel")
    page.wait_for_selector("#restart-modal", state="hidden")
    assert _started_at(name) == started

    # confirm: progress, then the way back into the lab
    page.click("#restart-server")
    page.wait_for_selector("#restart-modal.show")
    page.click("#restart-confirm")
    page.wait_for_selector("#restart-progress:not(.d-none)")
    page.wait_for_selector("#open-lab", timeout=120_000)
    assert "Server restarted" in page.inner_text("#selfservice-result")
    after = engine().api.inspect_container(naming.container_name(name))
    assert after["Id"] == cid and after["State"]["StartedAt"] > started

    # stop with JupyterHub's own button: the page switches to Manage Volumes
    page.click("#stop")
    page.wait_for_selector("#manage-volumes:not(.d-none)", timeout=120_000)
    assert page.is_hidden("#restart-server")

    page.click("#manage-volumes")
    page.wait_for_selector("#volumes-table:not(.d-none)")
    rows = page.inner_text("#volumes-table")
    for key in ("home", "workspace", "cache"):
        assert naming.volume_name(name, key) in rows
    assert "project files, notebooks, code" in rows and "cannot be undone" in page.inner_text("#volumes-modal")
    assert naming.SHARED_VOLUME not in rows
    assert page.is_disabled("#volumes-confirm")  # nothing selected yet
    page.check("#vol-home")
    assert page.inner_text("#volumes-confirm") == "Delete 1 volume"
    _shot(page, "#volumes-modal", "volumes-dialog.png")
    page.click("#volumes-cancel")
    page.wait_for_selector("#volumes-modal", state="hidden")
    assert len(_volumes(name)) == 3

    page.click("#manage-volumes")
    page.wait_for_selector("#volumes-table:not(.d-none)")
    page.check("#vol-home")
    page.check("#vol-cache")
    page.click("#volumes-confirm")
    page.wait_for_selector("#volumes-done:not(.d-none)")
    assert "deleted" in page.inner_text("#volumes-done")
    assert _volumes(name) == {naming.volume_name(name, "workspace")}


def test_admin_restarts_another_users_server_from_admin_page(hub, page):
    name, session = hub.new_user("adm")
    hub.start_server(session, name)
    started = _started_at(name)
    hub.admin_session()
    login(page, hub, hub.admin, PASSWORD)

    page.goto(hub.hub_url + "admin")
    page.fill("#stellars-manage-name", name)  # the form above JupyterHub's panel
    page.click("#stellars-manage-go")
    page.wait_for_url(f"**/hub/manage/{name}")
    assert page.inner_text("#manage-target") == name

    page.wait_for_selector("#restart-server:not(.d-none)")
    page.click("#restart-server")
    page.wait_for_selector("#restart-modal.show")
    page.click("#restart-confirm")
    page.wait_for_selector("#open-lab", timeout=120_000)
    assert _started_at(name) > started
