"""One source of volume keys: a hub whose spawner is configured with an extra per-user volume
(``--StellarsSpawner.user_volumes``) uses it for delete-with-volumes, kept volumes and the
activity monitor, and a newcomer with a deleted user's name never sees that user's volumes."""

from __future__ import annotations

import json
import shutil
import time

import docker
import pytest
from harness import ARTIFACTS, LAB_IMAGE, TEST_ENV, Hub, engine, remove_test_objects, unique_name

from stellars_hub import naming

KEYS = ("home", "workspace", "cache", "extra")
VOLUMES = [{"key": v.key, "mount": v.mount, "description": v.description} for v in naming.USER_VOLUMES]
VOLUMES.append({"key": "extra", "mount": "/mnt/extra", "description": "a site's own volume"})


@pytest.fixture(scope="module")
def vhub(docker_engine, tmp_path_factory):
    h = Hub(data_dir=tmp_path_factory.mktemp("volume-keys-hub"), env=dict(TEST_ENV),
            # one argument per volume: traitlets reads repeated arguments as the list's items
            extra_args=[f"--StellarsSpawner.user_volumes={json.dumps(v)}" for v in VOLUMES]).start()
    yield h
    h.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(h.log_path, ARTIFACTS / f"hub-volume-keys-{h.port}.log")
    remove_test_objects()


def _create(hub: Hub, name: str) -> None:
    r = hub.api(hub.admin_session(), "POST", "users", json={"usernames": [name]})
    assert r.status_code == 201, r.text


def _fill(names: dict[str, str]) -> None:
    """Create the volumes on the engine with some bytes each, as a lab would have left them."""
    client = engine()
    for key, vol in names.items():
        client.volumes.create(vol)
        client.containers.run(LAB_IMAGE, entrypoint=["sh", "-c"],
                              command=[f"head -c 200000 /dev/urandom > /v/{key}.bin"],
                              volumes={vol: {"bind": "/v"}}, user="root", remove=True)


def _exists(vol: str) -> bool:
    try:
        engine().volumes.get(vol)
        return True
    except docker.errors.NotFound:
        return False


def _activity_row(hub: Hub, name: str) -> dict:
    r = hub.api(hub.admin_session(), "GET", "activity")
    assert r.status_code == 200, r.text
    return {u["username"]: u for u in r.json()["users"]}[name]


def test_the_configured_extra_volume_is_the_users_own(vhub):
    name = unique_name("keys")
    _create(vhub, name)
    r = vhub.api(vhub.admin_session(), "GET", f"users/{name}/manage-volumes")
    assert r.status_code == 200, r.text
    assert [v["key"] for v in r.json()["volumes"]] == list(KEYS)


def test_delete_with_volumes_removes_the_configured_extra_volume(vhub):
    admin = vhub.admin_session()
    name = unique_name("delx")
    _create(vhub, name)
    vols = naming.volume_names_for_base(naming.escape_name(name), [naming.UserVolume(k, "/x", "") for k in KEYS])
    _fill(vols)

    r = vhub.api(admin, "DELETE", f"admin/users/{name}", json={"remove_volumes": True})
    assert r.status_code == 200, r.text
    assert {v["key"]: v["status"] for v in r.json()["volumes"]} == {k: "removed" for k in KEYS}
    assert not any(_exists(v) for v in vols.values())


def test_kept_volumes_include_the_configured_extra_volume(vhub):
    admin = vhub.admin_session()
    name = unique_name("keepx")
    _create(vhub, name)
    vols = naming.volume_names_for_base(naming.escape_name(name), [naming.UserVolume(k, "/x", "") for k in KEYS])
    _fill(vols)
    assert vhub.api(admin, "DELETE", f"users/{name}").status_code == 204  # JupyterHub's own: volumes kept

    listing = vhub.api(admin, "GET", "admin/kept-volumes").json()["kept"]
    entry = next(k for k in listing if k["deleted_name"] == name)
    assert {v["key"]: (v["name"], v["exists"]) for v in entry["volumes"]} == {k: (vols[k], True) for k in KEYS}
    r = vhub.api(admin, "DELETE", f"admin/kept-volumes/{entry['id']}")
    assert r.status_code == 200, r.text
    assert {v["key"]: v["status"] for v in r.json()["volumes"]} == {k: "removed" for k in KEYS}
    assert not any(_exists(v) for v in vols.values())


def test_a_newcomer_with_a_deleted_users_name_sees_only_their_own_volumes(vhub):
    admin = vhub.admin_session()
    name = unique_name("bob")
    _create(vhub, name)
    old = naming.volume_names_for_base(naming.escape_name(name), [naming.UserVolume(k, "/x", "") for k in KEYS])
    _fill(old)

    # the monitor names and measures the first user's volumes, the extra one included
    deadline = time.monotonic() + 120
    while (row := _activity_row(vhub, name))["volume_bytes"] is None:
        assert time.monotonic() < deadline, "the volume sizes never reached the activity report"
        time.sleep(1)
    assert row["volume_bytes"] >= len(KEYS) * 200000

    # deleted with the volumes kept; a newcomer takes the name and gets fresh volumes
    assert vhub.api(admin, "DELETE", f"users/{name}").status_code == 204
    _create(vhub, name)
    r = vhub.api(admin, "GET", f"users/{name}/manage-volumes")
    fresh = {v["key"]: v["name"] for v in r.json()["volumes"]}
    assert set(fresh.values()).isdisjoint(old.values()) and all(_exists(v) for v in old.values())

    # the report names the newcomer's volumes (the hub state changed, so the report is new),
    # which do not exist yet: no size at all, never the deleted user's
    assert _activity_row(vhub, name)["volume_bytes"] is None
