"""Every platform route × method × identity against a real hub (in this process, its engine
replaced by tests/inprocess/fakeruntime.py: these are questions about the hub's answers, not
about an engine), with the expected status from tests/accessmatrix.py, and the state re-read
after refused destructive calls. The route table is the one the platform registers
(tests/routetable.py): a route or method without a row fails here.

No refusal tells who exists: for every route, an anonymous caller, and a plain user acting on
someone else, get the same status and body for a real user's name as for an unknown one."""

from __future__ import annotations

import json
import re

import pytest
import requests
from accessmatrix import IDENTITIES, ROWS, markdown_table
from harness import unique_name
from readme import block
from routetable import routes

from stellars_hub import naming
from stellars_hub.session.feature import SERVICE_SCOPES

CULLER = "cullerlike"
CUSTOM_GLOBAL = sorted({r.custom for r in ROWS.values() if r.custom and "{t}" not in r.custom})
ROLES = (
    "c.JupyterHub.load_roles = "
    + repr(
        [{"name": "matrix-culler", "scopes": SERVICE_SCOPES, "users": [CULLER]}]
        + [
            {"name": "matrix-" + s.replace(":", "-"), "scopes": [s], "users": ["custom-" + s.replace(":", "-")]}
            for s in CUSTOM_GLOBAL
        ]
    )
    + "\n"
)


def registered() -> set[tuple[str, str]]:
    return {(r.pattern, m) for r in routes() for m in r.methods}


def test_readme_access_table_is_current():
    from harness import REPO

    readme = (REPO / "README.md").read_text()
    assert block("access-table", readme) == markdown_table(), (
        "README access table is stale: run `python tests/readme.py`"
    )


def test_every_registered_route_has_a_row_and_every_row_a_route():
    missing = registered() - set(ROWS)
    assert not missing, f"routes without a permission-matrix row (add them to tests/accessmatrix.py): {missing}"
    stale = set(ROWS) - registered()
    assert not stale, f"rows for routes the platform no longer registers: {stale}"


def _url(hub, pattern: str, target: str, row=None) -> str:
    # the first argument is the target user (or the row's own value); a named server that
    # does not exist fills any second one
    path = re.sub(r"\([^)]*\)", (row.path if row is not None and row.path else target), pattern, count=1)
    return hub.base.rstrip("/") + "/hub" + re.sub(r"\([^)]*\)", "noserver", path)


def _body(row, target):
    return None if row.body is None else json.loads(json.dumps(row.body).replace("{t}", target))


class Caller:
    """One identity's way of sending a request."""

    def __init__(self, hub, session=None, token=None, xsrf=True, cross_site=False):
        self.hub, self.session, self.token, self.xsrf, self.cross_site = hub, session, token, xsrf, cross_site

    def send(self, method: str, url: str, body) -> requests.Response:
        headers = {}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        if self.session is not None and self.xsrf:
            headers["X-XSRFToken"] = self.session.cookies.get("_xsrf", path=self.hub._cookie_path())
        if self.cross_site:
            headers.update(
                {
                    "Sec-Fetch-Site": "cross-site",
                    "Sec-Fetch-Mode": "navigate",
                    "Sec-Fetch-Dest": "document",
                    "Origin": "https://evil.example",
                    "Referer": "https://evil.example/page",
                }
            )
        sender = self.session or requests
        kwargs = {"json": body} if body is not None else {}
        return sender.request(method, url, headers=headers, allow_redirects=False, timeout=120, **kwargs)


HUB_CONFIG = ROLES


@pytest.fixture(scope="module")
def world(hub):
    admin = hub.admin_session()
    target, target_session = hub.new_user("tgt")
    other, other_session = hub.new_user("oth")
    victim, victim_session = hub.new_user("vic")
    hub.start_server(victim_session, victim)  # a running lab whose StartedAt must not change
    for name in naming.user_volume_names(target).values():
        hub.runtime.create_volume(name)
    callers = {
        "anonymous": lambda t: Caller(hub),
        "other": lambda t: Caller(hub, other_session),
        "self": lambda t: Caller(hub, target_session if t == target else victim_session),
        "admin": lambda t: Caller(hub, admin),
        "noxsrf": lambda t: Caller(hub, admin, xsrf=False),
        "crosssite": lambda t: Caller(hub, admin, xsrf=False, cross_site=True),
    }
    filtered = hub.token_for(hub.admin, [f"admin:users!user={target}", f"admin:servers!user={target}"])
    culler = hub.token_for(CULLER)
    tokens = {"filtered": filtered, "culler": culler}
    group = unique_name("team")  # a real group, for the routes that name one
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    yield {
        "hub": hub,
        "admin": admin,
        "target": target,
        "other": other,
        "victim": victim,
        "callers": callers,
        "tokens": tokens,
        "group": group,
    }


def _custom_token(world, row, target):
    hub = world["hub"]
    scope = row.custom.replace("{t}", target)
    owner = target if "{t}" in row.custom else "custom-" + row.custom.replace(":", "-")
    return hub.token_for(owner, [scope])


def _caller(world, identity, row, target):
    if identity in world["callers"]:
        return world["callers"][identity](target)
    if identity == "custom":
        return Caller(world["hub"], token=_custom_token(world, row, target)) if row.custom else None
    return Caller(world["hub"], token=world["tokens"][identity])


def _refused(row, identity, status, location) -> bool:
    if row.page and identity in ("anonymous", "filtered", "custom", "culler"):
        # pages take browser logins only: a token is no login there
        return status == 302 and "/login" in location
    return status in (401, 403) if identity == "anonymous" else status == 403


def _state(world) -> dict:
    hub, admin, target, victim = world["hub"], world["admin"], world["target"], world["victim"]
    engine = hub.runtime
    return {
        "volumes": sorted(
            v for v in engine.volumes_by_name if v.startswith(f"jupyterlab-{naming.escape_name(target)}")
        ),
        "containers": sorted(engine.containers),
        "started": engine.containers[naming.container_name(victim)]["State"]["StartedAt"],
        "users": sorted(u["name"] for u in hub.api(admin, "GET", "users").json()),
        "history": hub.api(admin, "GET", "notifications/history").json(),
        "kept": hub.api(admin, "GET", "admin/kept-volumes").json(),
        "activity_samples": sorted(
            (u["username"], u.get("sample_count")) for u in hub.api(admin, "GET", "activity").json().get("users", [])
        ),
    }


@pytest.mark.parametrize("key", sorted(ROWS), ids=lambda k: f"{k[1]} {k[0]}")
def test_route_answers_each_identity_as_the_matrix_says(world, key):
    pattern, method = key
    row = ROWS[key]
    problems = []
    # destructive rows are also aimed at the victim, whose running lab must survive every refusal
    targets = [world["target"]] + ([world["victim"]] if row.destructive and "([^/]+)" in pattern else [])
    for target in targets:
        on_victim = target == world["victim"]
        # who is granted here: the filtered token only reaches the target user
        granted = {i for i in row.allowed if not (on_victim and i == "filtered")}
        refused = [i for i in IDENTITIES if i not in granted]
        before = _state(world) if row.destructive else None
        for identity in refused + ([] if on_victim else [i for i in IDENTITIES if i in granted]):
            caller = _caller(world, identity, row, target)
            if caller is None:
                continue  # no custom scope for this route
            r = caller.send(method, _url(world["hub"], pattern, target, row), _body(row, target))
            if identity in granted:
                if r.status_code != row.ok:
                    problems.append(f"{identity}: {r.status_code} (expected {row.ok}) {r.text[:200]}")
            elif not _refused(row, identity, r.status_code, r.headers.get("Location", "")):
                problems.append(f"{identity}: {r.status_code} (expected a refusal) {r.text[:200]}")
            if r.status_code >= 500:
                problems.append(f"{identity}: server error {r.status_code}")
            if before is not None and identity == refused[-1]:
                after = _state(world)  # every refused call is done: nothing may have changed
                if after != before:
                    problems.append(
                        f"state changed by refused calls on {target}: "
                        + ", ".join(k for k in before if before[k] != after[k])
                    )
    assert requests.get(world["hub"].hub_url + "api/").status_code == 200
    assert not problems, f"{method} {pattern}:\n  " + "\n  ".join(problems)


def test_unknown_user_in_the_path_is_404_for_admins(world):
    hub, admin = world["hub"], world["admin"]
    ghost = unique_name("ghost")
    for (pattern, method), row in ROWS.items():
        if "([^/]+)" not in pattern or "kept-volumes" in pattern or row.page:
            continue
        r = Caller(hub, admin).send(method, _url(hub, pattern, ghost), _body(row, ghost))
        assert r.status_code in (403, 404), (method, pattern, r.status_code, r.text)


def _names_a_user(pattern: str, row) -> bool:
    return ("([^/]+)" in pattern and not row.path) or "{t}" in json.dumps(row.body)


def _answer(r: requests.Response, name: str) -> tuple:
    """What a caller learns from a refusal, with the name it asked about taken out."""
    body = r.text
    for form in (name, requests.utils.quote(name), requests.utils.quote(requests.utils.quote(name))):
        body = body.replace(form, "NAME")
    location = r.headers.get("Location", "").replace(name, "NAME")
    return r.status_code, location, body


@pytest.mark.parametrize(
    "key", sorted(k for k, r in ROWS.items() if _names_a_user(k[0], r)), ids=lambda k: f"{k[1]} {k[0]}"
)
def test_refusals_do_not_tell_real_users_from_unknown_names(world, key):
    """An anonymous caller, and a plain user acting on someone else, get one answer whether the
    name exists or not (the permission is checked before anything is looked up)."""
    pattern, method = key
    row = ROWS[key]
    hub = world["hub"]
    ghost = unique_name("ghost")
    real_name = world["group"] if pattern.startswith("/api/groups/") else world["target"]
    problems = []
    for identity in ("anonymous", "other"):
        if identity in row.allowed:
            continue  # granted to everyone: nothing is refused
        caller = world["callers"][identity](world["target"])
        answers = {}
        for name in (real_name, ghost):
            r = caller.send(method, _url(hub, pattern, name, row), _body(row, name))
            answers[name] = _answer(r, name)
        if answers[real_name] != answers[ghost]:
            real, unknown = answers[real_name], answers[ghost]
            problems.append(
                f"{identity}: real name -> {real[0]} {real[1]} {real[2][:300]!r}; "
                f"unknown name -> {unknown[0]} {unknown[1]} {unknown[2][:300]!r}"
            )
    assert not problems, f"{method} {pattern}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("route", ["batch/preview", "batch"])
def test_batch_refusals_name_nobody_whatever_the_targets(world, route):
    """A batch names users, servers, a group or every running server: refused callers get one
    answer for a real and an unknown target, and never a name they did not send."""
    hub, admin, target, victim = world["hub"], world["admin"], world["target"], world["victim"]
    group = unique_name("grp")
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [target, victim]}).status_code == 200
    ghost = unique_name("ghost")
    pairs = [
        ({"users": [target]}, {"users": [ghost]}),
        ({"servers": [f"{victim}/"]}, {"servers": [f"{ghost}/"]}),
        ({"group": group}, {"group": unique_name("nogrp")}),
    ]
    for identity in ("anonymous", "other"):
        caller = world["callers"][identity](target)
        url = hub.hub_url + "api/" + route
        for real, unknown in pairs:
            answers = [caller.send("POST", url, {"action": "stop", **body}) for body in (real, unknown)]
            assert answers[0].status_code == answers[1].status_code == 403, (identity, real, [a.text for a in answers])
            assert answers[0].text == answers[1].text, (identity, real, [a.text for a in answers])
        r = caller.send("POST", url, {"action": "stop", "all_running": True})
        assert r.status_code == 403 and victim not in r.text and target not in r.text, (identity, r.text)
    assert hub.runtime.containers[naming.container_name(victim)]["State"]["Running"]  # nothing stopped
