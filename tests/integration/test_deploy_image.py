"""The hub image on its own: start-up provisioning stops with a clear message when a step fails,
and the image's own HEALTHCHECK turns unhealthy when the hub stops answering. Containers run
without a network (--network none): Docker runs the check inside the container."""

from __future__ import annotations

import subprocess
import time

import pytest
from harness import RUN_PREFIX, engine

IMAGE = "stellars-hub:dev"

# find the JupyterHub process (not tini, not the proxy) and send it a signal
SIGNAL_HUB = r"""
import os, signal, sys
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        argv = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\0')
    except OSError:
        continue
    if b'jupyterhub' in argv and b'-f' in argv:
        os.kill(int(pid), getattr(signal, sys.argv[1]))
        print(pid)
"""


def _run(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", "run", "--rm", "--network", "none", *args], capture_output=True, text=True, timeout=timeout
    )


def test_bad_domain_stops_startup_at_the_certificate_step():
    out = _run("-e", "CERTIFICATE_DOMAIN_NAME=not a domain!", IMAGE)
    assert out.returncode == 1
    assert "step 'certificate' failed" in out.stderr and "not a valid domain name" in out.stderr
    assert "the hub was not started" in out.stderr


def test_invalid_setting_stops_startup_at_the_settings_step():
    out = _run("-e", "JUPYTERHUB_SIGNUP_ENABLED=yes", IMAGE)
    assert out.returncode == 1
    assert "JUPYTERHUB_SIGNUP_ENABLED" in out.stderr and "step 'settings' failed" in out.stderr


def test_half_mounted_certificate_is_refused(tmp_path):
    (tmp_path / "server.crt").write_text("only the certificate, no key\n")
    out = _run("-v", f"{tmp_path}:/data/certs:ro", IMAGE)
    assert out.returncode == 1
    assert "step 'certificate' failed" in out.stderr and "mount both or neither" in out.stderr


def test_readonly_certificate_folder_is_a_failure_not_ignored(tmp_path):
    out = _run("-v", f"{tmp_path}:/data/certs:ro", IMAGE)
    assert out.returncode == 1 and "step 'certificate' failed" in out.stderr


def _health(name: str) -> str:
    return engine().api.inspect_container(name)["State"].get("Health", {}).get("Status", "none")


def _wait_health(name: str, wanted: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _health(name)
        if status == wanted:
            return
        assert engine().api.inspect_container(name)["State"]["Running"], engine().containers.get(name).logs()[-2000:]
        time.sleep(1)
    raise AssertionError(f"{name} not {wanted} within {timeout} s (is {_health(name)})")


@pytest.fixture
def hub_container(docker_engine):
    name = f"{RUN_PREFIX}health"
    # the image's HEALTHCHECK command, run every second instead of every 30 s
    subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "none",
            "--health-interval",
            "1s",
            "--health-timeout",
            "3s",
            "--health-retries",
            "2",
            "-e",
            "JUPYTERHUB_GPU_ENABLED=0",
            "-e",
            "JUPYTERHUB_HUB_HOST=127.0.0.1",
            "-v",
            "/var/run/docker.sock:/var/run/docker.sock",
            IMAGE,
            "stellars-hub",
            "run",
            "--",
            "--ip=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    yield name
    subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True)


def test_healthcheck_goes_unhealthy_when_the_hub_stops_answering(hub_container):
    name = hub_container
    _wait_health(name, "healthy", 120)
    container = engine().containers.get(name)
    frozen = container.exec_run(["python3", "-c", SIGNAL_HUB, "SIGSTOP"]).output.decode().split()
    assert len(frozen) == 1, frozen  # exactly the hub process
    _wait_health(name, "unhealthy", 60)
    container.exec_run(["python3", "-c", SIGNAL_HUB, "SIGCONT"])
    _wait_health(name, "healthy", 60)
