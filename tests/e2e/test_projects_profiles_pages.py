"""A lab per need and group project folders in Chromium, on a real hub and engine: the admin gives
a group two profiles (two local images) and a project folder on the Policies page; a member's
first sign-in meets JupyterHub's options form with the profiles (a named server's form offers the
same list), starts the second image, and the My lab card shows the profile and the folder; the
Activity and Usage pages list the folder. One lab start; screenshots for the README."""

from __future__ import annotations

from urllib.parse import quote

import docker
import pytest
from browser import login, open_admin_page
from harness import PASSWORD, REPO, RUN_PREFIX, build_second_lab_image, engine, unique_name
from playwright.sync_api import expect

from stellars_hub import naming

HUB_ENV = {"JUPYTERHUB_NAMED_SERVERS": "1"}
ALT_IMAGE = f"stellars-lab:{RUN_PREFIX}-e2e-alt"
SCREENSHOTS = REPO / "docs" / "screenshots"


@pytest.fixture(scope="module", autouse=True)
def alt_image(docker_engine):
    yield build_second_lab_image(ALT_IMAGE)
    try:
        docker_engine.images.remove(ALT_IMAGE, force=True)
    except docker.errors.APIError:
        pass


def profile_names(page) -> list[str]:
    return page.eval_on_selector_all("#stellars-profiles input[name=profile]", "els => els.map(e => e.value)")


def test_admin_offers_profiles_and_a_folder_and_a_member_starts_the_chosen_lab(hub, page, browser):
    admin = hub.admin_session()
    team = unique_name("team")
    member, member_s = hub.new_user("mem")
    assert hub.api(admin, "POST", f"groups/{team}").status_code == 201
    assert hub.api(admin, "POST", f"groups/{team}/users", json={"users": [member]}).status_code == 200
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # the admin, on the Policies page: two profiles for the group, then its project folder
    page.goto(hub.hub_url + "login?next=" + quote("/jupyterhub/hub/home"))  # ?next=: no lab of the admin's
    page.fill("#username_input", hub.admin)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url("**/hub/home")
    open_admin_page(page, "policies")
    page.wait_for_url("**/hub/policies")
    row = page.locator(f"#policies-table tr[data-group='{team}']")
    row.locator(".policy-edit").click()
    page.fill("#p-memory", "2048")
    page.fill("#p-profiles", f"alt | {ALT_IMAGE} | 4096 |  |  | the second image")
    page.click("#policy-save")
    expect(page.locator("#policy-error")).to_contain_text("profiles[0].memory_mb")  # above the group's bound
    page.fill("#p-profiles", f"std | stellars-lab:dev | 1024\nalt | {ALT_IMAGE} | 2048 |  |  | the second image")
    page.click("#policy-save")
    expect(page.locator("#policy-saved")).to_contain_text(f"Saved the policy of {team}")
    expect(row).to_contain_text("std, alt")
    page.select_option("#project-group", team)
    page.click("#project-create-button")
    expect(page.locator("#project-done")).to_contain_text(f"/mnt/groups/{team}")
    folder_row = page.locator(f"#project-table tr[data-group='{team}']")
    expect(folder_row).to_contain_text(member)
    volume = folder_row.get_attribute("data-volume")
    assert engine().volumes.get(volume)
    page.locator("#project-folders").screenshot(path=str(SCREENSHOTS / "project-folders.png"))
    # the Activity and Usage pages list it too
    for entry in ("activity", "usage"):
        open_admin_page(page, entry)
        expect(page.locator(f"#project-table tr[data-group='{team}']")).to_contain_text(volume)

    # the member: a named server's form offers the same list as the default server's
    assert hub.api(member_s, "PUT", f"users/{member}/servers/second", json={}).status_code == 201
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    mine = context.new_page()
    try:
        mine.goto(hub.hub_url + f"spawn/{member}/second")
        login(mine, hub, member, PASSWORD)
        mine.wait_for_selector("#stellars-profiles")
        named = profile_names(mine)
        # the first sign-in leads to JupyterHub's spawn page, which now asks which lab
        mine.goto(hub.hub_url + "home")
        mine.click("#start")
        mine.wait_for_selector("#stellars-profiles")
        assert profile_names(mine) == named == ["std", "alt"]
        mine.check("#profile-alt")
        mine.screenshot(path=str(SCREENSHOTS / "profile-choice.png"))
        mine.click("#spawn_form button[type=submit]")
        mine.wait_for_url(f"**/user/{member}/lab**", timeout=180_000)
        info = engine().api.inspect_container(naming.container_name(member))
        assert info["Config"]["Image"] == ALT_IMAGE and info["HostConfig"]["Memory"] == 2048 * 2**20
        assert any(m["Destination"] == f"/mnt/groups/{team}" and m["RW"] for m in info["Mounts"])

        # the My lab card: the remembered profile, its image and the folder
        mine.goto(hub.hub_url + "home")
        expect(mine.locator("#lab-profile")).to_contain_text("alt (the second image)")
        expect(mine.locator("#lab-image")).to_have_text(ALT_IMAGE)
        expect(mine.locator("#lab-memory")).to_have_text("2.0 GiB")
        expect(mine.locator("#lab-mounts")).to_contain_text(f"/mnt/groups/{team} ({volume}, read-write")
        mine.locator("#effective-lab").screenshot(path=str(SCREENSHOTS / "my-lab-profile.png"))
    finally:
        context.close()
        hub.stop_server(member_s, member)
