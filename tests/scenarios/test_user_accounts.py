"""Accounts and their volumes, on both backends, with a site-configured extra volume
(``c.<Spawner>.user_volumes``): a renamed user keeps their files (on Kubernetes the claims of the
original name, found through the same volume mapping) and a newcomer with the old name gets none;
the activity page and Manage Volumes measure every configured volume; un-authorising ends the
session, the tokens and the lab but keeps the files; delete with volumes removes every volume of
the user (the configured one and their named servers' included), JupyterHub's own delete keeps
them, and an admin removes a kept set for good."""

from __future__ import annotations

import json

import pytest
import requests
from harness import audit, unique_name, wait_for
from steps import start, stop

from stellars_hub import naming

EXTRA = {"key": "extra", "mount": "/mnt/extra", "description": "a site's own volume"}
KEYS = ("home", "workspace", "cache", "extra")
SPECS = [*(naming.UserVolume(k, "/x", "") for k in KEYS)]
HUB_ENV = {"JUPYTERHUB_NAMED_SERVERS": "1"}
# one argument per volume: traitlets reads repeated arguments as the list's items
HUB_ARGS = [
    "--{spawner}.user_volumes=" + json.dumps(v).replace("{", "{{").replace("}", "}}")
    for v in [*naming.default_user_volumes(), EXTRA]
]
KUBE_VOLUMES = 40
FILES = {  # one file in each of the user's volumes, written inside their lab
    "home": "/home/lab/kept-home.txt",
    "workspace": "/home/lab/workspace/kept-workspace.txt",
    "cache": "/home/lab/.cache/kept-cache.txt",
}
# the extra volume's mount point is not in the image, so the engine makes it root's: the site's
# own data is put there from outside
EXTRA_FILE = "kept-extra.txt"
BIG = 5 * 2**20  # bytes written into the extra volume


def login(hub, name, password) -> tuple[requests.Session, int]:
    s = requests.Session()
    s.get(hub.hub_url + "login")
    r = s.post(
        hub.hub_url + "login",
        data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf")},
        allow_redirects=False,
    )
    return s, r.status_code


def create(hub, *names) -> dict[str, str]:
    """Users created by the admin; their generated passwords."""
    s = hub.admin_session()
    r = hub.api(s, "POST", "users", json={"usernames": list(names)})
    assert r.status_code == 201, r.text
    r = hub.api(s, "POST", "admin/credentials", json={"usernames": list(names)})
    assert r.status_code == 200, r.text
    return {c["username"]: c["password"] for c in r.json()["credentials"]}


def listing(hub, name) -> dict[str, dict]:
    r = hub.api(hub.admin_session(), "GET", f"users/{name}/manage-volumes")
    assert r.status_code == 200, r.text
    return {v["key"]: v for v in r.json()["volumes"]}


def every_volume(base: str, servers=("gpu",)) -> dict[str, str]:
    """key -> volume of a user's volume base: the configured keys and those of named servers."""
    found = naming.volume_names_for_base(base, SPECS)
    for server in servers:
        for key, vol in naming.volume_names_for_base(f"{base}{naming.SERVER_SEPARATOR}{server}", SPECS).items():
            found[f"{server}/{key}"] = vol
    return found


def of_base(lab_engine, base: str) -> set[str]:
    """The existing volumes of one volume base (a generated base that extends it is another's)."""
    prefix = f"{naming.CONTAINER_PREFIX}{base}"
    return {v for v in lab_engine.volumes(prefix) if v[len(prefix) :].startswith(("_", naming.SERVER_SEPARATOR))}


@pytest.fixture(scope="module")
def people(hub):
    old, newcomer = unique_name("ren"), ""
    return {"old": old, "new": unique_name("ren"), "password": create(hub, old)[old], "newcomer": newcomer}


def test_a_renamed_user_keeps_their_files_and_a_newcomer_gets_none(hub, lab_engine, people):
    old, new, password = people["old"], people["new"], people["password"]
    admin = hub.admin_session()
    lab_engine.fill({naming.volume_name(old, "extra"): {EXTRA_FILE: "mine", "big.bin": BIG}})
    start(hub, admin, old)
    hub.wait_server(admin, old, ready=True, timeout=300)
    for path in FILES.values():
        assert lab_engine.exec(naming.container_name(old), f"echo mine > {path}")[0] == 0

    # refused while the server runs, and the hub's shared database session keeps working
    r = hub.api(admin, "PATCH", f"users/{old}", json={"name": new})
    assert r.status_code == 409 and "running server" in r.json()["message"]
    assert hub.api(admin, "GET", f"users/{new}").status_code == 404
    stop(hub, admin, old)
    r = hub.api(admin, "PATCH", f"users/{old}", json={"name": new})
    assert r.status_code == 200, r.text

    session, status = login(hub, new, password)  # the same login, under the new name
    assert status == 302 and login(hub, old, password)[1] == 200
    people["session"] = session
    start(hub, session, new)
    hub.wait_server(session, new, ready=True, timeout=300)
    lab_engine.wait_gone(naming.container_name(old))
    assert lab_engine.lab(naming.container_name(new)).running  # the lab carries the new name...
    for path in FILES.values():  # ...and mounts the volumes the user had
        assert lab_engine.exec(naming.container_name(new), f"cat {path}") == (0, "mine\n")
    assert lab_engine.exec(naming.container_name(new), f"cat /mnt/extra/{EXTRA_FILE}") == (0, "mine")
    kept = {k: v["name"] for k, v in listing(hub, new).items()}
    assert kept == naming.volume_names_for_base(naming.escape_name(old), SPECS)

    # a newcomer with the old name: no old login, fresh volumes that do not exist yet
    people["newcomer"] = old
    people["newcomer_password"] = create(hub, old)[old]
    assert login(hub, old, password)[1] == 200
    theirs = listing(hub, old)
    assert list(theirs) == list(KEYS) and not any(v["exists"] for v in theirs.values())
    assert {v["name"] for v in theirs.values()}.isdisjoint(kept.values())


def test_every_configured_volume_is_listed_and_measured(hub, lab_engine, people):
    new = people["new"]
    # the extra volume holds BIG bytes of the site's data since before the rename
    admin = hub.admin_session()

    def measured():
        volumes = listing(hub, new)
        return (volumes["extra"]["size_bytes"] or 0) >= BIG and volumes

    volumes = wait_for(measured, 180, "the extra volume's size in Manage Volumes", step=3)
    assert list(volumes) == list(KEYS) and all(v["exists"] for v in volumes.values())
    row = wait_for(
        lambda: (
            (u := {u["username"]: u for u in hub.api(admin, "GET", "activity").json()["users"]}[new])["volume_bytes"]
            and u["volume_bytes"] >= BIG
            and u
        ),
        120,
        "the activity page's volume sizes",
    )
    assert row["volume_bytes"] >= sum(v["size_bytes"] or 0 for v in volumes.values()) - 2**20
    # the newcomer with the renamed user's old name: their own volumes, which do not exist yet
    newcomer = {u["username"]: u for u in hub.api(admin, "GET", "activity").json()["users"]}[people["newcomer"]]
    assert newcomer["volume_bytes"] is None


def test_unauthorising_ends_the_session_tokens_and_lab_and_keeps_the_files(hub, lab_engine, people):
    name = people["newcomer"]
    session, status = login(hub, name, people["newcomer_password"])
    assert status == 302
    token = hub.token_for(name)
    start(hub, session, name)
    hub.wait_server(session, name, ready=True, timeout=300)
    for path in [*FILES.values(), f"/mnt/extra/{EXTRA_FILE}"]:  # none of the renamed user's files
        assert lab_engine.exec(naming.container_name(name), f"test -e {path}")[0] != 0
    assert hub.api(None, "GET", "user", token=token).status_code == 200

    hub.authorize(name)  # un-authorise

    assert hub.api(session, "GET", "user").status_code in (401, 403)
    assert hub.api(None, "GET", "user", token=token).status_code in (401, 403)
    assert session.get(hub.hub_url + "home", allow_redirects=False).status_code == 302  # to login
    lab_engine.wait_gone(naming.container_name(name), 120)
    assert lab_engine.volumes(naming.volume_name(name, "home")) == {naming.volume_name(name, "home")}  # kept
    assert login(hub, name, people["newcomer_password"])[1] == 200  # logins blocked
    entry = [e for e in audit(hub) if e["target"] == name and e["action"] == "unauthorize"][-1]
    assert entry["outcome"] == "ok" and entry["tokens_revoked"] >= 1 and entry["servers_stopped"] == ["default"]
    hub.authorize(name)
    assert login(hub, name, people["newcomer_password"])[1] == 302


def test_delete_with_volumes_removes_every_volume_of_the_user(hub, lab_engine, people):
    new, newcomer = people["new"], people["newcomer"]
    admin = hub.admin_session()
    base = naming.escape_name(people["old"])  # the renamed user's volumes keep their original base
    mine = every_volume(base)
    # a named server's volumes, left by a server the user had
    lab_engine.fill({v: {"f.txt": k} for k, v in mine.items() if "/" in k})
    theirs = {v["name"] for v in listing(hub, newcomer).values() if v["exists"]}
    assert len(theirs) == len(KEYS)  # the newcomer's own volumes, made by their start

    member, member_session = hub.new_user("member")
    r = hub.api(member_session, "DELETE", f"admin/users/{new}", json={"remove_volumes": True})
    assert r.status_code == 403
    assert hub.api(admin, "DELETE", f"admin/users/{new}", json={"remove_volumes": "yes"}).status_code == 400

    # the server still runs: it is stopped, then exactly the user's volumes go, the newcomer's stay
    r = hub.api(admin, "DELETE", f"admin/users/{new}", json={"remove_volumes": True})
    assert r.status_code == 200, r.text
    assert {v["name"]: v["status"] for v in r.json()["volumes"]} == {v: "removed" for v in mine.values()}
    assert of_base(lab_engine, base) == set()
    assert lab_engine.lab(naming.container_name(new)) is None
    assert all(lab_engine.volume_exists(v) for v in theirs)
    assert hub.api(admin, "GET", f"users/{new}").status_code == 404


def test_delete_keeps_volumes_by_default_and_an_admin_removes_a_kept_set_for_good(hub, lab_engine):
    admin = hub.admin_session()
    keep, drop = unique_name("keep"), unique_name("drop")
    creds = create(hub, keep, drop)
    kept, dropped = every_volume(naming.escape_name(keep)), every_volume(naming.escape_name(drop))
    lab_engine.fill({v: {"f.txt": k} for volumes in (kept, dropped) for k, v in volumes.items()})

    # JupyterHub's own delete (the admin panel without the box ticked): volumes stay
    assert hub.api(admin, "DELETE", f"users/{keep}").status_code == 204
    assert of_base(lab_engine, naming.escape_name(keep)) == set(kept.values())
    assert login(hub, keep, creds[keep])[1] == 200  # the login went with the user
    r = hub.api(admin, "DELETE", f"admin/users/{drop}", json={"remove_volumes": True})
    assert r.status_code == 200, r.text
    assert {v["key"]: v["status"] for v in r.json()["volumes"]} == {k: "removed" for k in dropped}
    assert of_base(lab_engine, naming.escape_name(drop)) == set()

    # later users of those names: a fresh login each, never the kept files
    again = create(hub, keep, drop)
    assert login(hub, keep, again[keep])[1] == 302
    assert {v["name"] for v in listing(hub, keep).values()}.isdisjoint(kept.values())
    assert {k: v["name"] for k, v in listing(hub, drop).items()} == {k: v for k, v in dropped.items() if "/" not in k}

    # the kept set stays listed for admins, who remove it for good later
    member, member_session = hub.new_user("member")
    assert hub.api(member_session, "GET", "admin/kept-volumes").status_code == 403
    entry = next(k for k in hub.api(admin, "GET", "admin/kept-volumes").json()["kept"] if k["deleted_name"] == keep)
    assert {v["key"]: (v["name"], v["exists"]) for v in entry["volumes"]} == {
        k: (v, True) for k, v in kept.items() if "/" not in k
    }
    assert hub.api(member_session, "DELETE", f"admin/kept-volumes/{entry['id']}").status_code == 403
    r = hub.api(admin, "DELETE", f"admin/kept-volumes/{entry['id']}")
    assert r.status_code == 200, r.text
    assert {v["key"]: v["status"] for v in r.json()["volumes"]} == {k: "removed" for k in kept}
    assert of_base(lab_engine, naming.escape_name(keep)) == set()
    assert hub.api(admin, "DELETE", f"admin/kept-volumes/{entry['id']}").status_code == 404
