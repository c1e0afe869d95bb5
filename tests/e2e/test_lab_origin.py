"""One origin per lab, in Chromium: a user makes her lab serve a page (a server extension loaded
from her own home's Jupyter config, no help from the platform needed); a logged-in admin opens it.
On per-user subdomains the page cannot use the admin's hub identity (docker-sock unchanged); with
labs on the hub's origin the same page adds its author to docker-sock, which is why path-based labs
log a warning and the Settings page says so."""

from __future__ import annotations

import json

import pytest
from harness import PASSWORD, TEST_ENV, Hub, engine, remove_test_objects

from stellars_hub import naming

SERVER_CONFIG = r"""
import sys, types
from tornado import web

PAGE = %(page)s

class AttackPage(web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/html")
        self.finish(PAGE)

mod = types.ModuleType("lab_page_attack")
mod._jupyter_server_extension_points = lambda: [{"module": "lab_page_attack"}]
def _load(app):
    app.web_app.add_handlers(".*$", [(app.web_app.settings["base_url"] + "attack", AttackPage)])
mod._load_jupyter_server_extension = _load
sys.modules["lab_page_attack"] = mod
c.ServerApp.jpserver_extensions = {"lab_page_attack": True}
"""

SCRIPT = """
<html><body><script>
(async () => {
  const hub = "%(hub)s";
  const out = [];
  let token = null;
  try {
    // the hub's own page carries the XSRF token: readable only by a page of the same origin
    const html = await (await fetch(hub + "home", {credentials: "include"})).text();
    const m = html.match(/xsrf_token: "([^"]+)"/);
    token = m && m[1];
    out.push(token ? "xsrf-read" : "xsrf-none");
  } catch (e) { out.push("xsrf-blocked"); }
  try {
    const headers = {"Content-Type": "application/json"};
    if (token) headers["X-XSRFToken"] = token;
    const r = await fetch(hub + "api/groups/docker-sock/users", {method: "POST", credentials: "include",
      headers, body: JSON.stringify({users: ["%(attacker)s"]})});
    out.push("post-" + r.status);
  } catch (e) { out.push("post-blocked"); }
  document.title = "done " + out.join(" ");
})();
</script></body></html>
"""


class LocalhostHub(Hub):
    """The test hub reached as localhost, the name its subdomains hang off. JupyterHub puts its
    session cookie on the parent domain (.localhost), which Python's cookie jar files under a
    name it then never sends back; the sessions here send every cookie the hub set instead."""

    @property
    def base(self) -> str:
        return f"http://localhost:{self.port}/jupyterhub/"

    def login(self, name, password=PASSWORD):
        session = super().login(name, password)
        cookies = list(session.cookies)
        session.cookies.clear()
        for c in cookies:
            session.cookies.set(c.name, c.value, path=c.path)
        return session


@pytest.mark.parametrize("subdomains", [True, False], ids=["subdomains", "shared-origin"])
def test_a_lab_page_cannot_act_as_the_admin_who_opens_it(subdomains, browser, tmp_path, docker_engine):
    hub = LocalhostHub(data_dir=tmp_path / "hub", env=dict(TEST_ENV))
    origin = f"http://localhost:{hub.port}"
    hub.env["JUPYTERHUB_SUBDOMAIN_HOST"] = origin if subdomains else ""
    hub.start()
    try:
        attacker, session = hub.new_user("mallory")
        hub.start_server(session, attacker)
        page_html = SCRIPT % {"hub": f"{origin}/jupyterhub/hub/", "attacker": attacker}
        config = SERVER_CONFIG % {"page": json.dumps(page_html)}
        lab = engine().containers.get(naming.container_name(attacker))
        wrote = lab.exec_run(
            ["sh", "-c", "mkdir -p /home/lab/.jupyter && cat > /home/lab/.jupyter/jupyter_server_config.py"],
            stdin=True,
            socket=True,
        )
        wrote.output._sock.sendall(config.encode())
        wrote.output._sock.close()
        hub.stop_server(session, attacker)
        hub.start_server(session, attacker)  # the home volume keeps the config: the page is served

        log = hub.log_text()
        warning = "every lab is served from the hub's own origin"
        assert (warning in log) is (not subdomains)

        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{origin}/jupyterhub/hub/login")
            page.fill("#username_input", hub.admin)
            page.fill("#password_input", PASSWORD)
            page.click("#login_submit")
            page.wait_for_url("**/hub/**")
            page.goto(f"{origin}/jupyterhub/hub/settings")
            assert page.locator("#labs-share-origin").count() == (0 if subdomains else 1)

            lab_origin = f"http://{naming.escape_name(attacker)}.localhost:{hub.port}" if subdomains else origin
            page.goto(f"{lab_origin}/jupyterhub/user/{attacker}/attack")
            page.wait_for_function("document.title.startsWith('done')")
            outcome = page.title()
        finally:
            context.close()

        members = hub.api(hub.admin_session(), "GET", "groups/docker-sock").json()["users"]
        if subdomains:
            assert "xsrf-blocked" in outcome and "post-200" not in outcome, outcome
            assert attacker not in members
        else:
            # the danger this feature removes: the same page, on the hub's origin, succeeds
            assert "post-200" in outcome, outcome
            assert attacker in members
    finally:
        hub.stop()
        remove_test_objects()  # this hub is not a fixture's: its labs (the admin's too) go now
