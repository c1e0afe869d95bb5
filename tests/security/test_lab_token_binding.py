"""A token a lab receives through its OAuth client opens that lab only. An admin allowed into
bob's lab completes the OAuth flow there; bob's lab (which bob controls) exchanges the code as
any lab does, so bob holds the admin's token: it must carry no scope for anyone but bob's lab,
and replayed into the admin's own lab it must be refused."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlparse

import requests
from harness import engine
from kubernetes_asyncio.config import kube_config
from traitlets.config import Config

from stellars_hub import naming
from stellars_hub.backends.docker.spawner import StellarsSpawner
from stellars_hub.backends.kubernetes.spawner import StellarsKubeSpawner

IDENTITY = ("read:users:name!user=", "read:users:groups!user=")  # every token says whose it is


def lab_env(owner: str) -> dict[str, str]:
    """The environment of bob's lab, which bob controls: its OAuth client's secret (the lab's API
    token) and callback."""
    env = engine().containers.get(naming.container_name(owner)).attrs["Config"]["Env"]
    return dict(e.split("=", 1) for e in env)


def authorization_code(hub, session: requests.Session, owner: str) -> tuple[str, str, str]:
    """What bob's lab does when a visitor arrives (with a PKCE pair of its own making): send the
    visitor's browser to the hub's authorize page, which the visitor confirms; the code the hub
    hands back, the verifier and the redirect_uri."""
    env = lab_env(owner)
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    query = urlencode(
        {
            "client_id": env["JUPYTERHUB_CLIENT_ID"],
            "redirect_uri": env["JUPYTERHUB_OAUTH_CALLBACK_URL"],
            "response_type": "code",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    r = session.get(hub.hub_url + "api/oauth2/authorize?" + query, allow_redirects=False, timeout=60)
    if r.status_code == 200 and "<form" in r.text:  # "authorize access to bob's server?"
        fields = [
            (html.unescape(n), html.unescape(v))
            for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text)
        ]
        r = session.post(r.url, data=fields, allow_redirects=False, timeout=60)
    assert r.status_code in (301, 302, 303), (r.status_code, r.text[:300])
    location = urlparse(r.headers["Location"])
    assert location.path.endswith("/oauth_callback"), r.headers["Location"]
    return parse_qs(location.query)["code"][0], verifier, env["JUPYTERHUB_OAUTH_CALLBACK_URL"]


def test_a_token_issued_through_bobs_lab_opens_only_bobs_lab(hub):
    admin = hub.admin_session()
    bob, bob_session = hub.new_user("tb")
    hub.start_server(bob_session, bob)
    hub.start_server(admin, hub.admin)
    assert hub.api(bob_session, "PUT", f"users/{bob}/lab-access/consent", json={"hours": 1}).status_code == 200
    assert hub.api(admin, "POST", f"users/{bob}/lab-access").status_code == 200

    code, verifier, redirect_uri = authorization_code(hub, hub.login(hub.admin, hub.admin_password()), bob)
    env = lab_env(bob)
    r = requests.post(
        hub.hub_url + "api/oauth2/token",
        timeout=60,
        data={
            "client_id": env["JUPYTERHUB_CLIENT_ID"],
            "client_secret": env["JUPYTERHUB_API_TOKEN"],
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        },
    )
    assert r.status_code == 200, r.text
    token = {"Authorization": f"token {r.json()['access_token']}"}

    model = requests.get(hub.hub_url + "api/user", headers=token, timeout=60).json()
    assert model["name"] == hub.admin
    others = [s for s in model["scopes"] if not s.startswith(IDENTITY) and f"={bob}" not in s]
    assert others == [], f"the token bob's lab holds carries scopes beyond bob's lab: {others}"
    assert all(f"={bob}/" in s for s in model["scopes"] if s.startswith(("custom:", "access:"))), model["scopes"]

    # the token is real: it opens the lab it was issued for ...
    assert requests.get(hub.base + f"user/{bob}/api/contents", headers=token, timeout=60).status_code == 200
    # ... and nothing else: bob replaying it into the admin's lab is refused
    r = requests.get(hub.base + f"user/{hub.admin}/api/contents", headers=token, timeout=60)
    assert r.status_code == 403, f"the admin's lab accepted the token bob's lab received ({r.status_code})"


class _User:
    def __init__(self, name):
        self.name, self.url, self.escaped_name, self.id, self.orm_user = name, f"/user/{name}/", name, 1, None


async def test_both_backends_bind_the_lab_scopes_to_the_owner_and_server(tmp_path, monkeypatch):
    # the Kubernetes spawner configures its client when built: an address nothing listens on
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    for cls in (StellarsSpawner, StellarsKubeSpawner):
        for server in ("", "gpu"):
            spawner = cls(user=_User("ann"), orm_spawner=SimpleNamespace(name=server, server=None), config=Config())
            want = [f"custom:labaccess:enter!server=ann/{server}"]
            assert spawner.oauth_access_scopes == want, (cls.__name__, spawner.oauth_access_scopes)
            assert spawner.oauth_client_allowed_scopes == want, (cls.__name__, spawner.oauth_client_allowed_scopes)
