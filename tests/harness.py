"""A real hub process for tests: ``stellars-hub run`` with the platform's own configuration,
labs from ``stellars-lab:dev`` on host networking (all traffic stays on 127.0.0.1)."""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import docker
import requests

REPO = Path(__file__).resolve().parent.parent
LAB_IMAGE = os.environ.get("STELLARS_TEST_LAB_IMAGE", "stellars-lab:dev")
ARTIFACTS = REPO / "test-artifacts"
# every user a test run creates starts with this, so cleanup finds all its containers/volumes
RUN_PREFIX = "t" + secrets.token_hex(3)
PASSWORD = "Stellars-test-pw-42"
# what every test hub runs with unless a test says otherwise
TEST_ENV = {
    "JUPYTERHUB_NETWORK_NAME": "host",
    "JUPYTERHUB_NOTEBOOK_IMAGE": LAB_IMAGE,
    "JUPYTERHUB_GPU_ENABLED": "0",
    "JUPYTERHUB_BASE_URL": "/jupyterhub",
    "JUPYTERHUB_ADMIN": f"{RUN_PREFIX}admin",  # prefixed: cleanup removes the admin's lab too
    "JUPYTERHUB_ADMIN_PASSWORD": PASSWORD,  # the admin's login at first start (never from signup)
    "JUPYTERHUB_PUBLIC_SCHEME": "http",  # test hubs are plain HTTP on loopback
    "JUPYTERHUB_TRUSTED_PROXIES": "",  # clients reach the hub's proxy directly
    "JUPYTERHUB_AUTH_RATE_PER_ADDRESS": "10000",  # every test client is 127.0.0.1; tests/security checks the limit
    "JUPYTERHUB_LOGO_URI": "file:///nonexistent/logo.svg",
    "JUPYTERHUB_SUBDOMAIN_HOST": "",  # tests reach the hub at 127.0.0.1; subdomain tests set it
}


_handed_out: set[int] = set()


def _worker_ports() -> range | None:
    """Under pytest-xdist each worker takes its hubs' ports from its own range: two workers never
    race for the port one of them just probed. The ranges lie above the kernel's ephemeral ports
    (32768-60999) and the ports the hubs give their host-networked labs (20000-32767)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or int(worker[2:]) >= 3:
        return None
    start = 61000 + int(worker[2:]) * 1500
    return range(start, start + 1500)


def free_port() -> int:
    """A free loopback port never handed out before in this run: the kernel may give a port
    that was just closed again, and a hub whose proxy and API got the same port cannot start."""
    candidates = _worker_ports()
    if candidates is None:
        while True:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    for port in candidates:
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError("this worker's port range is used up")


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def unique_name(label: str) -> str:
    return f"{RUN_PREFIX}{label}{secrets.token_hex(2)}"


def wait_for(check, timeout: float = 60, what: str = "condition", step: float = 0.5, also=None):
    """``check()``'s first true value within ``timeout`` seconds, looking every ``step`` seconds
    (``also()`` between looks); AssertionError naming ``what`` when none came."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen within {timeout} s")
        if also:
            also()
        time.sleep(step)


def open_files_naming(text: str) -> int:
    """This process's descriptors open on a file whose path contains ``text``."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += text in os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, closed meanwhile
            pass
    return count


def audit(hub) -> list[dict]:
    """The hub's audit log, one dict per line (none before its first line)."""
    path = hub.data_dir / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def engine() -> docker.DockerClient:
    return docker.from_env(timeout=120)


def read_volume_file(volume: str, path: str, image: str | None = None) -> str:
    """A file's text from a volume, through the engine's archive API. Not through a container's
    output: the engine drops a last line without a newline now and then (about 1 in 20 here),
    which made restored files read back empty."""
    client = engine()
    holder = client.containers.create(
        image or LAB_IMAGE, ["true"], entrypoint=[], network_mode="none", volumes={volume: {"bind": "/v", "mode": "ro"}}
    )
    try:
        stream, _ = holder.get_archive(f"/v/{path}")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            content = tar.extractfile(tar.getmembers()[0])
            assert content is not None, f"{path} is not a regular file"
            return content.read().decode()
    finally:
        holder.remove(force=True)


def build_second_lab_image(tag: str, label: str = "alt") -> str:
    """A second local lab image for profile tests: the lab image with one label more, built from
    it (a one-line Dockerfile; nothing is pulled). Remove it with ``engine().images.remove``."""
    dockerfile = f"FROM {LAB_IMAGE}\nLABEL stellars.test-profile={label}\n".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    context.seek(0)
    engine().images.build(fileobj=context, custom_context=True, tag=tag, pull=False, rm=True)
    return tag


def remove_test_objects(prefix: str = RUN_PREFIX) -> None:
    """Remove every container, volume and lab network whose name carries ``prefix`` (test users
    and networks only)."""
    client = engine()
    for c in client.containers.list(all=True, filters={"name": f"jupyterlab-{prefix}"}):
        c.remove(force=True)
    # the users' volumes, and the project folders of the run's groups (jupyterhub-group-<group>_project)
    for pattern in (f"jupyterlab-{prefix}", f"jupyterhub-group-{prefix}"):
        for v in client.volumes.list(filters={"name": pattern}):
            try:
                v.remove(force=True)
            except docker.errors.APIError:
                pass
    for n in client.networks.list(filters={"label": "stellars.lab-network"}):
        if n.name.startswith(prefix):  # lab networks of this run's hubs (their names carry the prefix)
            try:
                n.remove()
            except docker.errors.APIError:
                pass


@dataclass
class Hub:
    data_dir: Path
    env: dict
    port: int = field(default_factory=free_port)
    hub_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    extra_args: list = field(default_factory=list)  # more jupyterhub arguments (traitlets)
    extra_config: str = ""  # a site config file's text, loaded before the platform's (e.g. extra roles)
    bin_dir: Path | None = None  # where its stellars-hub is (another release's venv); default: this one's
    proc: subprocess.Popen | None = None
    _admin_session: requests.Session | None = None

    @property
    def base(self) -> str:
        base_url = self.env.get("JUPYTERHUB_BASE_URL", "/jupyterhub").strip("/")
        return f"http://127.0.0.1:{self.port}/" + (f"{base_url}/" if base_url else "")

    @property
    def hub_url(self) -> str:
        return self.base + "hub/"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "hub.log"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- process ----------------------------------------------------------------------------
    def start(self, timeout: float = 60) -> Hub:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **self.env,
            "JUPYTERHUB_DATA_DIR": str(self.data_dir),
            "JUPYTERHUB_HUB_PORT": str(self.hub_port),
        }
        config = None
        if self.extra_config:
            config = self.site_config_path
            config.write_text(self.extra_config)
        cmd = [
            str((self.bin_dir or Path(sys.executable).parent) / "stellars-hub"),
            "run",
            *(["--config", str(config)] if config else []),
            "--",
            "--port",
            str(self.port),
            f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{self.api_port}",
            *self.extra_args,
        ]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=self.data_dir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}")
            try:
                if requests.get(self.hub_url + "api/", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"hub did not answer within {timeout} s:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    @property
    def site_config_path(self) -> Path:
        return self.data_dir / "site_config.py"

    def store_rows(self, file: str, sql: str, *args) -> list:
        """Rows of one of the platform's SQLite files in this hub's data directory."""
        path = self.data_dir / file
        if not path.exists():
            return []
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute(sql, args).fetchall()

    # -- accounts ---------------------------------------------------------------------------
    def signup(self, name: str, password: str = PASSWORD) -> requests.Response:
        s = requests.Session()
        s.get(self.hub_url + "signup")
        return s.post(
            self.hub_url + "signup",
            data={
                "username": name,
                "signup_password": password,
                "signup_password_confirmation": password,
                "_xsrf": s.cookies.get("_xsrf"),
            },
        )

    def login(self, name: str, password: str = PASSWORD) -> requests.Session:
        s = requests.Session()
        s.get(self.hub_url + "login")
        r = s.post(
            self.hub_url + "login",
            data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf")},
            allow_redirects=False,
        )
        if r.status_code != 302:
            raise AssertionError(f"login of {name} failed: {r.status_code}")
        return s

    def login_status(self, name: str, password: str = PASSWORD) -> int:
        """The login POST's status: 302 logged in, 200 the login page again (refused)."""
        s = requests.Session()
        s.get(self.hub_url + "login")
        return s.post(
            self.hub_url + "login",
            data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf")},
            allow_redirects=False,
        ).status_code

    @property
    def admin(self) -> str:
        return self.env.get("JUPYTERHUB_ADMIN", "admin")

    def admin_password(self) -> str:
        """JUPYTERHUB_ADMIN_PASSWORD, or the one the hub generated into its data directory."""
        if self.env.get("JUPYTERHUB_ADMIN_PASSWORD"):
            return self.env["JUPYTERHUB_ADMIN_PASSWORD"]
        return (self.data_dir / "initial-admin-password").read_text().strip()

    def admin_session(self) -> requests.Session:
        if self._admin_session is None:
            self._admin_session = self.login(self.admin, self.admin_password())
        return self._admin_session

    def authorize(self, name: str) -> None:
        """Toggle ``name``'s authorisation (the Authorize Users page's POST form)."""
        s = self.admin_session()
        r = s.post(self.hub_url + f"authorize/{name}", data={"_xsrf": s.cookies.get("_xsrf", path=self._cookie_path())})
        assert r.status_code == 200, r.status_code

    def new_user(self, label: str = "u") -> tuple[str, requests.Session]:
        """Sign up, get authorised by the admin and log in: a real user with a cookie session."""
        name = unique_name(label)
        self.signup(name)
        self.authorize(name)
        return name, self.login(name)

    # -- API --------------------------------------------------------------------------------
    def api(
        self, session: requests.Session | None, method: str, path: str, token: str | None = None, **kwargs
    ) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"token {token}"
        if session is not None and "_xsrf" in session.cookies.keys():
            headers.setdefault("X-XSRFToken", session.cookies.get("_xsrf", path=self._cookie_path()))
        sender = session or requests
        return sender.request(
            method,
            self.hub_url + "api/" + path.lstrip("/"),
            headers=headers,
            timeout=kwargs.pop("timeout", 180),
            **kwargs,
        )

    def _cookie_path(self) -> str:
        return "/" + self.hub_url.split("/", 3)[3]

    def token_for(self, name: str, scopes: list[str] | None = None) -> str:
        body = {"note": "test", "expires_in": 3600}
        if scopes is not None:
            body["scopes"] = scopes
        r = self.api(self.admin_session(), "POST", f"users/{name}/tokens", json=body)
        assert r.status_code == 201, r.text
        return r.json()["token"]

    def start_server(self, session: requests.Session, name: str, timeout: float = 120) -> dict:
        r = self.api(session, "POST", f"users/{name}/server")
        assert r.status_code in (201, 202), r.text
        return self.wait_server(session, name, ready=True, timeout=timeout)

    def stop_server(self, session: requests.Session, name: str, timeout: float = 120) -> None:
        r = self.api(session, "DELETE", f"users/{name}/server")
        assert r.status_code in (202, 204), r.text
        self.wait_server(session, name, ready=False, timeout=timeout)

    def wait_server(self, session, name, ready: bool, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api(session, "GET", f"users/{name}").json()
            server = model.get("servers", {}).get("")
            if ready and server and server.get("ready"):
                return model
            if not ready and not server:
                return model
            time.sleep(0.5)
        raise AssertionError(f"server of {name} not {'ready' if ready else 'stopped'} in {timeout} s")

    def lab(self, name: str, method: str, path: str = "api", token: str | None = None, **kwargs):
        """A request to the user's lab through the hub's proxy, with a token of that user."""
        token = token or self.token_for(name)
        return requests.request(
            method, self.base + f"user/{name}/{path}", timeout=30, headers={"Authorization": f"token {token}"}, **kwargs
        )

    def backup_round(self, timeout: float = 300) -> dict:
        """Start a backup round (after the one running, e.g. the start-up round) and wait for it
        to end: the overview of ``GET /hub/api/backups`` then."""
        admin = self.admin_session()
        asked = int(time.time())
        for _ in range(240):
            r = self.api(admin, "POST", "backups/run")
            if r.status_code == 202:
                break
            assert r.status_code == 409 and "already running" in r.json()["message"], r.text
            time.sleep(0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.api(admin, "GET", "backups").json()
            last = data["last_round"]
            if not data["running"] and last and datetime.fromisoformat(last["started"]).timestamp() >= asked:
                return data
            time.sleep(1)
        raise AssertionError(f"the backup round did not end within {timeout} s")
