"""Settings page /hub/settings and GET /hub/api/settings: admins see every setting (secrets
masked, long values shortened with the full value on hover), everybody else gets 403."""

from __future__ import annotations

import html
import re

import pytest
import requests
from harness import ARTIFACTS, Hub

from stellars_hub.features import configurables
from stellars_hub.settings import declared

SETTINGS = declared(configurables())

LONG_IMAGE = "registry.example.org/research/gpu-probe-image-with-a-long-name:2026.11-cuda13-ubuntu24.04"


@pytest.fixture(scope="module")
def shub(hub, tmp_path_factory):
    """Beside the shared test hub, one whose database URL (a secret) carries a recognisable
    marker and whose NVIDIA image name is long."""
    data = tmp_path_factory.mktemp("hub")
    env = {
        **hub.env,
        "JUPYTERHUB_DB_URL": f"sqlite:///{data}/secret-marker-db.sqlite",
        "JUPYTERHUB_NVIDIA_IMAGE": LONG_IMAGE,
    }
    h = Hub(data_dir=data, env=env).start()
    yield h
    h.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"hub-{h.port}.log").write_text(h.log_text())


def test_admin_sees_every_setting_grouped_with_secrets_masked(shub):
    r = shub.admin_session().get(shub.hub_url + "settings")
    assert r.status_code == 200
    page = r.content.decode("utf-8")  # the page declares utf-8 in a meta tag, not the header
    for s in SETTINGS:
        assert f'id="setting-{s.name}"' in page, s.name
        assert s.description in html.unescape(page), s.name
    for category in dict.fromkeys(s.category for s in SETTINGS):
        assert f">{category}</h2>" in page
    assert "secret-marker-db" not in page
    row = re.search(r'id="setting-JUPYTERHUB_DB_URL".*?</tr>', page, re.S).group(0)
    assert "********" in row
    # long value: shortened in the cell, complete in the hover title
    row = re.search(r'id="setting-JUPYTERHUB_NVIDIA_IMAGE".*?</tr>', page, re.S).group(0)
    assert f'title="{LONG_IMAGE}"' in row
    shown = re.search(r'class="setting-value"[^>]*>.*?<code>(.*?)</code>', row, re.S).group(1)
    assert shown != LONG_IMAGE and shown.endswith("\u2026") and LONG_IMAGE.startswith(shown[:-1])


def test_api_returns_every_setting_masked_for_admin_session_and_token(shub):
    admin = shub.admin_session()
    for kwargs in ({"session": admin}, {"session": None, "token": shub.token_for(shub.admin)}):
        session = kwargs.pop("session")
        r = shub.api(session, "GET", "settings", **kwargs)
        assert r.status_code == 200, r.text
        rows = {row["name"]: row for row in r.json()["settings"]}
        assert list(rows) == [s.name for s in SETTINGS]
        assert rows["JUPYTERHUB_DB_URL"]["value"] == "********" and rows["JUPYTERHUB_DB_URL"]["secret"]
        assert "secret-marker-db" not in r.text
        assert rows["JUPYTERHUB_NVIDIA_IMAGE"]["value"] == LONG_IMAGE
        assert rows["JUPYTERHUB_ADMIN"]["default"] == "admin"


def test_non_admins_and_anonymous_get_403(hub):
    shub = hub
    name, session = shub.new_user("set")
    r = session.get(shub.hub_url + "settings")
    assert r.status_code == 403 and "secret-marker-db" not in r.text
    r = shub.api(session, "GET", "settings")
    assert r.status_code == 403 and r.json()["status"] == 403 and "settings" in r.json()["message"]
    r = shub.api(None, "GET", "settings", token=shub.token_for(name))
    assert r.status_code == 403
    # an admin's token narrowed to reading users is not enough either
    r = shub.api(None, "GET", "settings", token=shub.token_for(shub.admin, ["read:users"]))
    assert r.status_code == 403
    r = requests.get(shub.hub_url + "api/settings")
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("application/json")
    r = requests.get(shub.hub_url + "settings", allow_redirects=False)
    assert r.status_code == 302 and "/hub/login" in r.headers["Location"]
