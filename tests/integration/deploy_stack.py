"""The compose stack as a test fixture: compose.yml merged with the host-network test override,
started and stopped with the operator's own scripts (scripts/up.sh, scripts/down.sh).

Docker Compose v1 cannot drop the published ports of compose.yml in an override, and Docker
refuses published ports on host networking, so the merged configuration (``compose config``)
has them removed before the stack starts; everything else is compose.yml as shipped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml
from harness import LAB_IMAGE, PASSWORD, REPO, RUN_PREFIX, free_port, read_volume_file, remove_test_objects

OVERRIDE = Path(__file__).with_name("compose.hostnet.yml")


def compose_command() -> list[str]:
    out = subprocess.run([str(REPO / "scripts/ensure-compose.sh")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


class Stack:
    def __init__(self, workdir: Path, label: str = "stack"):
        self.project = f"{RUN_PREFIX}{label}"
        self.admin = f"{RUN_PREFIX}adm"
        self.https_port, self.http_port = free_port(), free_port()
        self.workdir = workdir
        self.file = workdir / "compose.yml"
        self.env = {
            **os.environ,
            "COMPOSE_PROJECT_NAME": self.project,
            "STELLARS_HTTP_PORT": str(self.http_port),
            "STELLARS_HTTPS_PORT": str(self.https_port),
            "STELLARS_TEST_HUB_PORT": str(free_port()),
            "STELLARS_TEST_PROXY_API_PORT": str(free_port()),
            "STELLARS_DATA_VOLUME": f"{self.project}_data",
            "STELLARS_CERTS_VOLUME": f"{self.project}_certs",
            "STELLARS_PROXY_IMAGE": os.environ.get("STELLARS_TEST_PROXY_IMAGE", "stellars-proxy:dev"),
            "STELLARS_UP_TIMEOUT": "240",
            "JUPYTERHUB_HUB_PORT": str(free_port()),
            "JUPYTERHUB_NETWORK_NAME": "host",
            "JUPYTERHUB_NOTEBOOK_IMAGE": LAB_IMAGE,
            "JUPYTERHUB_GPU_ENABLED": "0",
            "JUPYTERHUB_ADMIN": self.admin,
            "JUPYTERHUB_ADMIN_PASSWORD": PASSWORD,
            "JUPYTERHUB_RESTART_READY_TIMEOUT": "60",
            # path-based labs for the tests that reach labs with Python (which cannot resolve
            # <user>.localhost); test_deploy_subdomains sets its own
            "JUPYTERHUB_SUBDOMAIN_HOST": "off",
        }
        self.env.pop("STELLARS_COMPOSE_FILE", None)

    @property
    def volumes(self) -> list[str]:
        return [self.env["STELLARS_DATA_VOLUME"], self.env["STELLARS_CERTS_VOLUME"]]

    def write_config(self, *extra: Path) -> dict:
        """compose.yml (+ extra overrides) + the host-network override, as compose itself merges
        and interpolates them."""
        files = [REPO / "compose.yml", *extra, OVERRIDE]
        cmd = compose_command() + [a for f in files for a in ("-f", str(f))] + ["config"]
        out = subprocess.run(cmd, cwd=REPO, env=self.env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        config = yaml.safe_load(out.stdout)
        # services behind a profile (the auto-updater) are off here as by default
        config["services"] = {k: v for k, v in config["services"].items() if not v.get("profiles")}
        for service in config["services"].values():
            assert service.get("network_mode") == "host"
            service.pop("ports", None)
        config.pop("networks", None)  # no service uses the bridge network here
        self.save(config)
        return config

    def save(self, config: dict) -> None:
        self.file.write_text(yaml.safe_dump(config))

    def script(self, name: str, timeout: float = 400) -> subprocess.CompletedProcess:
        env = {**self.env, "STELLARS_COMPOSE_FILE": str(self.file)}
        return subprocess.run(
            [str(REPO / "scripts" / name)], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
        )

    def up(self) -> str:
        out = self.script("up.sh")
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def down(self) -> str:
        out = self.script("down.sh")
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def containers(self) -> list[str]:
        out = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={self.project}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.split()

    def read_certificate(self) -> bytes:
        return read_volume_file(self.volumes[1], "server.crt").encode()

    def remove_volumes(self) -> None:
        subprocess.run(["docker", "volume", "rm", "-f", *self.volumes], capture_output=True)

    def remove_network(self) -> None:
        """compose's default network of the project, if it made one (down.sh keeps networks)."""
        subprocess.run(["docker", "network", "rm", f"{self.project}_default"], capture_output=True)

    def tear_down(self) -> None:
        """The operator's down.sh, then everything the tests' stack left: labs, volumes, network."""
        try:
            self.script("down.sh")
        finally:
            remove_test_objects()
            self.remove_volumes()
            self.remove_network()
