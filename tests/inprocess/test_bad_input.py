"""Bad input for every JSON route: wrong types, missing and unknown fields, huge bodies, unicode
and path tricks in names. Each answers 4xx with a message naming the field (or the body),
changes nothing, and the hub keeps answering."""

from __future__ import annotations

import json

import pytest
import requests

from stellars_hub import naming

GOOD_FIELD = {  # route -> (method, the field its message must name, bad bodies)
    "admin/credentials": (
        "POST",
        "usernames",
        [
            {},
            {"usernames": "ann"},
            {"usernames": []},
            {"usernames": [1]},
            {"usernames": [""]},
            [],
            "x",
            5,
            {"usernames": ["ann"], "extra": 1},
        ],
    ),
    "admin/users/{t}": (
        "DELETE",
        "remove_volumes",
        [
            {"remove_volumes": "yes"},
            {"remove_volumes": 1},
            {"remove_volumes": None},
            [],
            "x",
            {"remove_volumes": True, "also": 1},
        ],
    ),
    "users/{t}/manage-volumes": (
        "DELETE",
        "volumes",
        [
            {},
            {"volumes": "home"},
            {"volumes": []},
            {"volumes": ["../../etc"]},
            {"volumes": ["home", 3]},
            {"volumes": [naming.SHARED_VOLUME]},
            {"volumes": ["hömé"]},
            [],
            "x",
            {"volumes": ["home"], "x": 1},
        ],
    ),
    "users/{t}/extend-session": (
        "POST",
        "hours",
        [
            {},
            {"hours": "2"},
            {"hours": 1.5},
            {"hours": True},
            {"hours": -1},
            {"hours": 10**12},
            [],
            "x",
            {"hours": 1, "minutes": 5},
        ],
    ),
    "notifications/broadcast": (
        "POST",
        None,
        [
            {},
            {"message": 5},
            {"message": ""},
            {"message": "hi", "type": "shout"},
            {"message": "hi", "autoClose": "no"},
            {"message": "hi", "recipients": "all"},
            {"message": "hi", "recipients": ["../x"]},
            [],
            "x",
            {"message": "hi", "bogus": 1},
        ],
    ),
}
PATH_TRICKS = ["..", "%2e%2e", "a%2Fb", "ü" * 3, "x" * 300, "%00", "admin%20", "%252e"]


@pytest.fixture(scope="module")
def setup(hub):
    admin = hub.admin_session()
    target, session = hub.new_user("bad")
    for vol in naming.user_volume_names(target).values():
        hub.runtime.create_volume(vol)
    return admin, target


def _state(hub, admin, target):
    return {
        "volumes": sorted(v for v in hub.runtime.volumes_by_name if v.startswith(naming.escape_name(target))),
        "users": sorted(u["name"] for u in hub.api(admin, "GET", "users").json()),
        "history": hub.api(admin, "GET", "notifications/history").json(),
    }


@pytest.mark.parametrize("route", sorted(GOOD_FIELD))
def test_bad_bodies_are_refused_naming_the_field_and_change_nothing(hub, setup, route):
    admin, target = setup
    method, field, bodies = GOOD_FIELD[route]
    path = route.replace("{t}", target)
    before = _state(hub, admin, target)
    for body in bodies + ["{not json", b"\xff\xfe", "x" * (70 * 1024)]:
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        r = hub.api(admin, method, path, data=data, headers={"Content-Type": "application/json"})
        assert 400 <= r.status_code < 500 and r.status_code != 403, (route, body, r.status_code, r.text)
        message = r.json()["message"]
        assert message, (route, body)
        if isinstance(body, (dict, list)) and field and r.status_code == 400:
            extra = set(body) - {field} if isinstance(body, dict) else set()
            assert field in message or any(e in message for e in extra), (route, body, message)
        if isinstance(body, dict) and field is None and r.status_code == 400:
            named = set(body) | {"message", "body"}
            assert any(n in message for n in named), (route, body, message)
    assert _state(hub, admin, target) == before
    assert requests.get(hub.hub_url + "api/").status_code == 200


def test_path_tricks_in_names_are_404_and_change_nothing(hub, setup):
    admin, target = setup
    before = _state(hub, admin, target)
    for trick in PATH_TRICKS:
        for method, path, body in (
            ("DELETE", f"users/{trick}/manage-volumes", {"volumes": ["home"]}),
            ("POST", f"users/{trick}/restart-server", None),
            ("DELETE", f"admin/users/{trick}", {"remove_volumes": True}),
            ("POST", f"users/{trick}/extend-session", {"hours": 1}),
            ("DELETE", f"admin/kept-volumes/{trick}", None),
        ):
            r = hub.api(admin, method, path, json=body)
            assert r.status_code in (400, 404), (method, path, r.status_code, r.text)
    assert _state(hub, admin, target) == before
    assert requests.get(hub.hub_url + "api/").status_code == 200
