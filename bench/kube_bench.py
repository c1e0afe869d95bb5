"""Restart Server vs JupyterHub's stop + start on Kubernetes (scripts/k8s-test-cluster.sh).

Each in-place restart is measured on a lab that was not restarted before: the kubelet delays a
second restart of the same container within about ten minutes (crash back-off, 10 s then 20 s),
which the README states; the first restart is what a user normally gets.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from .common import TEST_ENV, Hub, median, timed, wait_answering

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "k8s-test-cluster.sh"
LABS = 3


def _cluster() -> tuple[str, str, bool]:
    """(kubeconfig, kubectl, started here)."""
    status = subprocess.run([str(SCRIPT), "status"], capture_output=True, text=True)
    started = False
    if status.returncode != 0:
        subprocess.run([str(SCRIPT), "up"], check=True, stdout=subprocess.DEVNULL)
        started = True
        status = subprocess.run([str(SCRIPT), "status"], capture_output=True, text=True, check=True)
    values = dict(line.split("=", 1) for line in status.stdout.splitlines() if "=" in line)
    return values["KUBECONFIG"], values["KUBECTL"], started


def run():
    kubeconfig, kubectl, started = _cluster()
    namespace = "stellars-bench"
    subprocess.run([kubectl, f"--kubeconfig={kubeconfig}", "create", "namespace", namespace], capture_output=True)
    env = {
        **TEST_ENV,
        "JUPYTERHUB_BACKEND": "kubernetes",
        "JUPYTERHUB_K8S_KUBECONFIG": kubeconfig,
        "JUPYTERHUB_K8S_NAMESPACE": namespace,
        "JUPYTERHUB_K8S_VOLUME_SIZE": "1Gi",
    }
    hub = Hub(
        data_dir=Path(tempfile.mkdtemp(prefix="bench-kube-hub-")),
        env=env,
        extra_args=["--StellarsKubeSpawner.shared_access_modes=ReadWriteOnce"],
    ).start()
    try:
        labs = []
        for _ in range(LABS):
            name, session = hub.new_user("kb")
            hub.start_server(session, name, timeout=300)
            labs.append((name, session, hub.token_for(name)))

        def restart_in_place(name, session):
            r = hub.api(session, "POST", f"users/{name}/restart-server")
            assert r.status_code == 200, r.text

        def stop_and_start(name, session, token):
            hub.stop_server(session, name, timeout=300)
            hub.start_server(session, name, timeout=300)
            wait_answering(lambda: hub.lab(name, "GET", "api/status", token))

        in_place = [timed(restart_in_place, name, session) for name, session, _ in labs]
        respawn = [timed(stop_and_start, name, session, token) for name, session, token in labs]
        return [
            (
                "Kubernetes: Restart Server / stop+start",
                median(in_place) / median(respawn),
                f"until the lab answers through the hub; median of {LABS} labs "
                f"({median(in_place):.1f} s vs {median(respawn):.1f} s)",
            )
        ]
    finally:
        hub.stop()
        subprocess.run(
            [kubectl, f"--kubeconfig={kubeconfig}", "delete", "namespace", namespace, "--wait=true", "--timeout=180s"],
            capture_output=True,
        )
        if started:
            subprocess.run([str(SCRIPT), "down"], stdout=subprocess.DEVNULL)
