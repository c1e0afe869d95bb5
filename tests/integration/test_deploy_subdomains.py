"""The compose stack's default: every lab on its own subdomain. The stack (Traefik + hub image,
host networking as in the other stack tests) serves the hub at https://localhost:<port>/ and a
user's lab at https://<user>.localhost:<port>/ with the wildcard certificate it made; Chromium
(which resolves *.localhost to loopback) logs in and opens the lab there."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml
from deploy_stack import Stack
from harness import PASSWORD, REPO, Hub
from playwright.sync_api import sync_playwright

from stellars_hub import naming


def test_compose_default_is_per_user_subdomains():
    hub_env = yaml.safe_load((REPO / "compose.yml").read_text())["services"]["jupyterhub"]["environment"]
    assert hub_env["JUPYTERHUB_SUBDOMAIN_HOST"] == "${JUPYTERHUB_SUBDOMAIN_HOST:-https://localhost}"
    assert hub_env["CERTIFICATE_DOMAIN_NAME"] == "${CERTIFICATE_DOMAIN_NAME:-localhost}"


class SubdomainStackHub(Hub):
    """Harness helpers at the stack's public address; sends back every cookie the hub set
    (Python's cookie jar never returns the hub's session cookie for the parent .localhost)."""

    https_port: int = 0

    @property
    def base(self) -> str:
        return f"https://localhost:{self.https_port}/jupyterhub/"

    def login(self, name, password=PASSWORD):
        session = super().login(name, password)
        cookies = list(session.cookies)
        session.cookies.clear()
        for c in cookies:
            session.cookies.set(c.name, c.value, path=c.path)
        return session


@pytest.fixture(scope="module")
def stack(docker_engine, tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("substack"), label="sub")
    s.env["JUPYTERHUB_SUBDOMAIN_HOST"] = f"https://localhost:{s.https_port}"
    s.write_config()
    try:
        s.up()
        yield s
    finally:
        s.tear_down()


def test_a_lab_is_served_on_its_own_subdomain_through_the_stack(stack, tmp_path):
    ca = tmp_path / "server.crt"
    ca.write_bytes(stack.read_certificate())
    old = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(ca)
    try:
        hub = SubdomainStackHub(
            data_dir=tmp_path,
            env={"JUPYTERHUB_ADMIN": stack.admin, "JUPYTERHUB_ADMIN_PASSWORD": stack.env["JUPYTERHUB_ADMIN_PASSWORD"]},
        )
        hub.https_port = stack.https_port
        admin = hub.admin_session()
        # labs on subdomains over HTTPS: the hub's login cookie is host-only (__Host-), which a
        # lab's page cannot set for the hub's domain
        assert "__Host-jupyterhub-hub-login" in {c.name for c in admin.cookies}, sorted(c.name for c in admin.cookies)
        hub.start_server(admin, stack.admin, timeout=180)
    finally:
        if old is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = old

    lab_host = f"{naming.escape_name(stack.admin)}.localhost"
    # the stack's certificate names the labs' subdomains (its wildcard SAN). OpenSSL and browsers
    # do not accept a wildcard directly under a single label such as localhost, so a laptop sees
    # the same certificate warning for a lab as for the self-signed hub; *.example.org is fine.
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=ca.read_bytes(), capture_output=True, check=True
    ).stdout.decode()
    assert "DNS:*.localhost" in text, text

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic"],
        )
        try:
            page = browser.new_context(ignore_https_errors=True).new_page()  # self-signed CA not in Chromium's store
            page.set_default_timeout(120_000)
            page.goto(f"https://localhost:{stack.https_port}/jupyterhub/hub/login")
            page.fill("#username_input", stack.admin)
            page.fill("#password_input", PASSWORD)
            page.click("#login_submit")
            # the hub sends a user whose lab runs straight on to it: to its own subdomain
            page.wait_for_url(f"https://{lab_host}:{stack.https_port}/**")
            page.goto(f"https://localhost:{stack.https_port}/jupyterhub/user/{stack.admin}/lab")
            page.wait_for_selector("#jp-main-dock-panel")
            assert page.url.startswith(f"https://{lab_host}:{stack.https_port}/jupyterhub/user/{stack.admin}/"), (
                page.url
            )
        finally:
            browser.close()
    os.environ["REQUESTS_CA_BUNDLE"] = str(ca)
    try:
        hub.stop_server(admin, stack.admin)
    finally:
        if old is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = old
