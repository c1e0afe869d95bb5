"""A lab's own start-up, per lab image: the small test image and the DS image side by side.

For each image, on a hub of its own: the CPU a lab's container uses from its start until it
answers through the hub's proxy (its cgroup), the time from the start request until then for a
new user's first lab (cold: the engine creates its volumes and fills them from the image) and
for later starts of the same user (warm), a class arriving (bench/class_bench.py: its last lab,
the labs' CPU), and the image's size. Then the lab's command (docker/lab/jupyterhub-singleuser,
imports with the garbage collector paused) against JupyterHub's own entry point, bare runs of
the same image and environment taking turns, as a ratio of their CPU.
BENCH_LABSTART_CLASS (default 30) is the class's size; 0 leaves the class out.
"""

from __future__ import annotations

import os
import time

import requests
from docker.models.containers import Container

from .common import median, running_hub, wait_answering  # first: puts tests/ on the path

from harness import LAB_IMAGE, engine, free_port  # noqa: E402  (isort: skip)

from stellars_hub import naming
from stellars_hub.lab.config import Labs

from .class_bench import _class
from .phases import container_cpu_seconds
from .spawn_bench import follow_progress

DS_IMAGE = os.environ.get("STELLARS_TEST_DS_IMAGE", "stellars-lab-ds:dev")
WARM_ROUNDS = 3
BARE_ROUNDS = 3
CLASS_USERS = int(os.environ.get("BENCH_LABSTART_CLASS", "30"))


def _start(hub, session, name: str, token: str) -> tuple[float, float, Container]:
    """Start the user's lab as the home page does; seconds until it answers through the proxy
    and the CPU seconds its container used by then."""
    t0 = time.monotonic()
    r = hub.api(session, "POST", f"users/{name}/server")
    assert r.status_code in (201, 202), r.text
    if r.status_code == 202:
        follow_progress(hub, session, name)
    wait_answering(lambda: hub.lab(name, "GET", "api/status", token), deadline_s=300)
    elapsed = time.monotonic() - t0
    container = engine().containers.get(naming.container_name(name))
    cpu = container_cpu_seconds(container.id)
    assert cpu is not None, "the container's cgroup is not readable here"
    return elapsed, cpu, container


def _bare(image: str, config: dict, cmd: list[str]) -> float:
    """CPU of a bare run of ``cmd`` with the hub's environment for the lab, on a new port, until
    its server answers (the hub is not asked: what the lab itself costs)."""
    port = free_port()
    env = [e for e in config["Env"] if not e.startswith("JUPYTERHUB_SERVICE_URL=")]
    old_url = next(e for e in config["Env"] if e.startswith("JUPYTERHUB_SERVICE_URL=")).split("=", 1)[1]
    prefix = next(e for e in config["Env"] if e.startswith("JUPYTERHUB_SERVICE_PREFIX=")).split("=", 1)[1]
    env.append("JUPYTERHUB_SERVICE_URL=" + old_url.rsplit(":", 1)[0] + f":{port}{prefix}")
    c = engine().containers.run(image, cmd, environment=env, network_mode="host", detach=True)
    try:
        wait_answering(lambda: requests.get(f"http://127.0.0.1:{port}{prefix}api", timeout=2))
        cpu = container_cpu_seconds(c.id)
        assert cpu is not None, "the container's cgroup is not readable here"
        return cpu
    finally:
        c.remove(force=True)


def _image(image: str) -> dict:
    """What one image measured, by name."""
    out: dict = {"size": engine().images.get(image).attrs["Size"]}
    with running_hub(JUPYTERHUB_NOTEBOOK_IMAGE=image) as hub:
        name, session = hub.new_user("ls")
        token = hub.token_for(name)
        cold_s, cold_cpu, container = _start(hub, session, name, token)
        time.sleep(5)
        out["cold"] = (cold_s, cold_cpu, container_cpu_seconds(container.id))
        config = container.attrs["Config"]
        hub.stop_server(session, name)
        warm = []
        for _ in range(WARM_ROUNDS):
            warm.append(_start(hub, session, name, token)[:2])
            hub.stop_server(session, name)
        out["warm"] = warm
        # the lab's command against JupyterHub's own entry point, taking turns
        lab_cmd, stock_cmd = [], []
        for _ in range(BARE_ROUNDS):
            lab_cmd.append(_bare(image, config, config["Cmd"]))
            stock_cmd.append(_bare(image, config, ["python3", "-m", "jupyterhub.singleuser", *config["Cmd"][1:]]))
        out["lab_cmd"], out["stock_cmd"] = lab_cmd, stock_cmd
    if CLASS_USERS:
        limit = os.environ.get("JUPYTERHUB_CONCURRENT_SPAWN_LIMIT", str(Labs.concurrent_spawn_limit.default_value))
        out["class"] = _class(CLASS_USERS, limit, JUPYTERHUB_NOTEBOOK_IMAGE=image)
    return out


def _rows(label: str, image: str, m: dict) -> list:
    warm_cpu = median([cpu for _, cpu in m["warm"]])
    warm_s = median([s for s, _ in m["warm"]])
    cold_s, cold_cpu, cold_later = m["cold"]
    lab_cmd, stock_cmd = median(m["lab_cmd"]), median(m["stock_cmd"])
    rows = [
        (
            f"{label}: CPU per lab start (s)",
            warm_cpu,
            f"{image}: the lab's cgroup from its start until it answers, median of {WARM_ROUNDS} starts",
            "<= 1.0",
            {
                f"{label} lab start-up (CPU of the lab's container)": {
                    **{
                        f"start {i + 1} (warm)": f"{cpu:.2f} s CPU, answered after {s:.2f} s"
                        for i, (s, cpu) in enumerate(m["warm"])
                    },
                    "first start of a new user (cold)": f"{cold_cpu:.2f} s CPU, answered after {cold_s:.2f} s",
                    "  and 5 s after it answered": f"{cold_later:.2f} s CPU",
                    "bare run, the lab's command (median)": f"{lab_cmd:.2f} s CPU",
                    "bare run, JupyterHub's entry point (median)": f"{stock_cmd:.2f} s CPU",
                }
            },
        ),
        (
            f"{label}: time to lab, cold / warm (s)",
            cold_s,
            f"a new user's first lab {cold_s:.2f} s (volumes created and filled from the image); "
            f"the same user's next starts {warm_s:.2f} s (median)",
            None,
        ),
        (
            f"{label}: lab command / JupyterHub entry (CPU)",
            lab_cmd / stock_cmd,
            f"bare runs taking turns, medians of {BARE_ROUNDS}: {lab_cmd:.2f} s vs {stock_cmd:.2f} s "
            "(the garbage collector paused while the server imports)",
            "<= 1.0",
        ),
        (f"{label}: image size (GB)", m["size"] / 1e9, f"{image}, as the engine reports it", None),
    ]
    if "class" in m:
        c = m["class"]
        times = c["times"]
        lab_cpu = c["lab_cpu"]
        rows.append(
            (
                f"{label}: class of {CLASS_USERS}, last lab (s)",
                c["last"],
                f"first {min(times) if times else float('nan'):.1f} s, median "
                f"{median(times) if times else float('nan'):.1f} s; the labs' CPU "
                + (f"{lab_cpu / CLASS_USERS:.2f} s per lab" if lab_cpu is not None else "not readable")
                + f"; {len(c['failures'])} failed starts; {c['placement']}",
                "<= 35" if label == "small" else None,
            )
        )
    return rows


def run():
    rows = []
    for label, image in (("small", LAB_IMAGE), ("DS", DS_IMAGE)):
        rows += _rows(label, image, _image(image))
    return rows
