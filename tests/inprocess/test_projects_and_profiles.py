"""Group project folders and a lab per need, as the hub answers them (in-process hub, fake engine):
the folder API (create, viewers, bad input, in use, removal), a deleted group's folder kept and
never handed to a new group of its name, the effective lab; profiles saved within bounds, and a
start that asks for what is not offered refused on every way in (API body, spawn form, the
remembered options) with nothing started and nothing remembered."""

from __future__ import annotations

import time

import pytest
import requests
from harness import unique_name

from stellars_hub import naming

HUB_ENV = {"JUPYTERHUB_NAMED_SERVERS": "1"}


@pytest.fixture(scope="module")
def team(hub):
    admin = hub.admin_session()
    group, readers = unique_name("team"), unique_name("read")
    member, member_s = hub.new_user("mem")
    viewer, viewer_s = hub.new_user("view")
    for g, users in ((group, [member]), (readers, [viewer])):
        assert hub.api(admin, "POST", f"groups/{g}").status_code == 201
        assert hub.api(admin, "POST", f"groups/{g}/users", json={"users": users}).status_code == 200
    return {
        "admin": admin,
        "group": group,
        "readers": readers,
        "member": (member, member_s),
        "viewer": (viewer, viewer_s),
    }


def events(hub, admin, action):
    return hub.api(admin, "GET", f"events?action={action}&limit=50").json()["events"]


def test_project_folder_create_viewers_refusals_and_the_labs_that_mount_it(hub, team):
    admin, group, readers = team["admin"], team["group"], team["readers"]
    member, member_s = team["member"]
    viewer, _ = team["viewer"]
    engine = hub.runtime
    for body, field in (
        ({"viewers": 5}, "viewers"),
        ({"viewers": group}, "viewers"),
        ({"viewers": unique_name("nogroup")}, "viewers"),
        ({"members": "all"}, "body"),
        ([], "body"),
    ):
        r = hub.api(admin, "POST", f"groups/{group}/project", json=body)
        assert r.status_code == 400 and r.json()["message"].startswith(field), (body, r.text)
    assert hub.api(admin, "GET", "projects").json()["folders"] == []

    r = hub.api(admin, "POST", f"groups/{group}/project", json={"viewers": readers})
    assert r.status_code == 201, r.text
    volume = r.json()["volume"]
    assert volume == f"jupyterhub-group-{naming.escape_name(group)}_project"
    assert volume in engine.volumes_by_name  # made at once, and opened to every lab's user
    assert engine.calls["ensure_shared_volume"] >= 1
    assert hub.api(admin, "POST", f"groups/{group}/project", json={}).status_code == 409
    assert [e["outcome"] for e in events(hub, admin, "project-create")][:2] == ["refused 409", "ok"]

    listed = {f["group"]: f for f in hub.api(admin, "GET", "projects").json()["folders"]}
    assert listed[group]["target"] == f"/mnt/groups/{group}" and listed[group]["members"] == [member]
    assert listed[group]["viewers"] == readers and listed[group]["viewer_members"] == [viewer]

    # the member's lab mounts it read-write, the viewer's read-only (what the My lab card shows)
    mine = hub.api(member_s, "GET", f"users/{member}/lab").json()["lab"]["projects"]
    assert mine == [{"group": group, "source": volume, "target": f"/mnt/groups/{group}", "mode": "rw"}]
    theirs = hub.api(admin, "GET", f"users/{viewer}/lab").json()["lab"]["projects"]
    assert [m["mode"] for m in theirs] == ["ro"]

    # a start mounts it; while mounted it cannot be removed
    hub.start_server(member_s, member)
    mounts = {m["Destination"]: m for m in engine.containers[naming.container_name(member)]["Mounts"]}
    assert mounts[f"/mnt/groups/{group}"]["Name"] == volume and mounts[f"/mnt/groups/{group}"]["RW"]
    r = hub.api(admin, "DELETE", f"projects/{volume}")
    assert r.status_code == 409 and naming.container_name(member) in r.json()["message"]
    assert volume in engine.volumes_by_name
    hub.stop_server(member_s, member)

    # viewers changed: the viewer's next lab has none
    assert hub.api(admin, "PATCH", f"groups/{group}/project", json={"viewers": None}).status_code == 200
    assert hub.api(admin, "GET", f"users/{viewer}/lab").json()["lab"]["projects"] == []
    assert hub.api(admin, "PATCH", f"groups/{readers}/project", json={"viewers": None}).status_code == 404


def test_a_deleted_groups_folder_is_kept_until_an_admin_removes_it(hub, team):
    admin = team["admin"]
    group = unique_name("gone")
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    volume = hub.api(admin, "POST", f"groups/{group}/project").json()["volume"]
    assert hub.api(admin, "DELETE", f"groups/{group}").status_code == 204  # JupyterHub's own group API
    kept = {f["volume"]: f for f in hub.api(admin, "GET", "projects").json()["folders"]}[volume]
    assert kept["kept"] and kept["members"] == [] and volume in hub.runtime.volumes_by_name
    assert events(hub, admin, "project-kept")[0]["target"] == f"group:{group}"

    # a new group of the name gets a folder of its own, never the kept files
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    again = hub.api(admin, "POST", f"groups/{group}/project").json()["volume"]
    assert again != volume and again.endswith("-x2_project")

    r = hub.api(admin, "DELETE", f"projects/{volume}")
    assert r.status_code == 200 and volume not in hub.runtime.volumes_by_name
    assert volume not in {f["volume"] for f in hub.api(admin, "GET", "projects").json()["folders"]}
    assert events(hub, admin, "project-remove")[0]["outcome"] == "ok"
    assert hub.api(admin, "DELETE", f"projects/{volume}").status_code == 404


PROFILES = [
    {"name": "small", "image": "lab:small", "memory_mb": 1024},
    {"name": "big", "image": "lab:big", "memory_mb": 2048, "cpus": 2},
]


def test_profiles_are_saved_within_the_groups_bounds(hub, team):
    admin, group = team["admin"], team["group"]
    r = hub.api(admin, "PUT", f"groups/{group}/policy", json={"memory_mb": 1536, "profiles": PROFILES})
    assert r.status_code == 400 and r.json()["message"].startswith("profiles[1].memory_mb"), r.text
    r = hub.api(admin, "PUT", f"groups/{group}/policy", json={"memory_mb": 4096, "cpus": 2, "profiles": PROFILES})
    assert r.status_code == 200, r.text
    assert [p["name"] for p in r.json()["policy"]["profiles"]] == ["small", "big"]


def test_a_start_gets_only_what_is_offered_whichever_way_it_comes(hub, team):
    admin, group = team["admin"], team["group"]
    member, member_s = team["member"]
    viewer, viewer_s = team["viewer"]
    engine = hub.runtime
    lab = naming.container_name(member)
    hub.api(admin, "PUT", f"groups/{group}/policy", json={"memory_mb": 4096, "cpus": 2, "profiles": PROFILES})

    # through the API: an image, a profile not offered, an unknown option; nothing starts
    for body, field in (
        ({"image": "lab:big"}, "image"),
        ({"profile": "huge"}, "profile"),
        ({"profile": "small", "image": "evil:latest"}, "image"),
        ({"mem_limit": "1T"}, "mem_limit"),
    ):
        r = hub.api(member_s, "POST", f"users/{member}/server", json=body)
        assert r.status_code == 400 and r.json()["message"].startswith(field), (body, r.text)
        assert lab not in engine.containers
        assert not hub.api(admin, "GET", f"users/{member}").json()["servers"]
    r = hub.api(viewer_s, "POST", f"users/{viewer}/server", json={"profile": "small"})  # offered to the team only
    assert r.status_code == 400 and "none of your groups offers profiles" in r.json()["message"]

    # an offered one: its image and limits; remembered for the next start
    assert hub.api(member_s, "POST", f"users/{member}/server", json={"profile": "big"}).status_code in (201, 202)
    hub.wait_server(member_s, member, ready=True)
    assert engine.containers[lab]["Config"]["Image"] == "lab:big"
    assert engine.containers[lab]["HostConfig"]["memory"] == 2048 * 2**20
    card = hub.api(member_s, "GET", f"users/{member}/lab").json()["lab"]
    assert card["profile"]["name"] == "big" and card["image"] == "lab:big" and card["memory_mb"] == 2048
    assert [p["name"] for p in card["profiles"]] == ["small", "big"]

    # a refused request while stopped does not replace the remembered choice
    hub.stop_server(member_s, member)
    assert hub.api(member_s, "POST", f"users/{member}/server", json={"profile": "huge"}).status_code == 400
    hub.start_server(member_s, member)  # no options: the remembered ones
    assert engine.containers[lab]["Config"]["Image"] == "lab:big"

    # Restart Server that must recreate (own variables changed) keeps the profile
    old_id = engine.containers[lab]["Id"]
    assert hub.api(member_s, "PUT", f"users/{member}/environment", json={"environment": {"X": "1"}}).status_code == 200
    r = hub.api(member_s, "POST", f"users/{member}/restart-server")
    assert r.status_code == 200 and r.json()["status"] == "recreated", r.text
    assert engine.containers[lab]["Id"] != old_id and engine.containers[lab]["Config"]["Image"] == "lab:big"
    hub.stop_server(member_s, member)

    # withdrawn: the remembered profile is refused (no image not offered is ever started again)
    hub.api(admin, "PUT", f"groups/{group}/policy", json={"memory_mb": 4096, "profiles": PROFILES[:1]})
    r = hub.api(member_s, "POST", f"users/{member}/server")
    assert r.status_code == 400 and "'big' is not offered" in r.json()["message"]
    card = hub.api(member_s, "GET", f"users/{member}/lab").json()["lab"]
    assert card["profile"] is None and "'big' is not offered" in card["profile_problem"]
    hub.api(admin, "PUT", f"groups/{group}/policy", json={"memory_mb": 4096, "cpus": 2, "profiles": PROFILES})


def test_the_spawn_form_offers_the_profiles_for_the_default_and_a_named_server(hub, team):
    member, member_s = team["member"]
    viewer, viewer_s = team["viewer"]
    server = "second"
    assert hub.api(member_s, "PUT", f"users/{member}/servers/{server}", json={}).status_code == 201
    forms = {}
    for path in (f"spawn/{member}", f"spawn/{member}/{server}"):
        page = member_s.get(hub.hub_url + path)
        assert page.status_code == 200 and 'id="stellars-profiles"' in page.text, path
        forms[path] = [v for v in ("small", "big") if f'value="{v}"' in page.text]
    assert list(forms.values()) == [["small", "big"], ["small", "big"]]

    # the form's choice starts the named server with it; a forged one is shown the refusal
    xsrf = member_s.cookies.get("_xsrf", path=hub._cookie_path())
    r = member_s.post(hub.hub_url + f"spawn/{member}/{server}?_xsrf={xsrf}", data={"profile": "evil"})
    assert r.status_code == 400 and "evil&#39; is not offered to you" in r.text
    r = member_s.post(hub.hub_url + f"spawn/{member}/{server}?_xsrf={xsrf}", data={"profile": "small"})
    assert r.status_code in (200, 302), r.text[:300]
    named = naming.server_container_name(member, server)
    deadline = time.monotonic() + 30
    while named not in hub.runtime.containers and time.monotonic() < deadline:
        time.sleep(0.2)
    assert hub.runtime.containers[named]["Config"]["Image"] == "lab:small"
    assert hub.api(member_s, "DELETE", f"users/{member}/servers/{server}").status_code in (202, 204)

    # nobody offers the viewer a profile: no form, the start goes ahead as before
    page = viewer_s.get(hub.hub_url + f"spawn/{viewer}", allow_redirects=False)
    assert 'id="stellars-profiles"' not in page.text
    hub.wait_server(viewer_s, viewer, ready=True)
    hub.stop_server(viewer_s, viewer)
    assert requests.get(hub.hub_url + "api/").status_code == 200
