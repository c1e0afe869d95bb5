"""The DS lab image in Chromium against a real hub, all three services switched on (the hub's
defaults), one lab: a notebook imports the scientific stack, draws a matplotlib and a plotly
figure and a widget, logs an MLflow run (no configuration: MLFLOW_TRACKING_URI from the hub)
and writes TensorBoard logs; the run shows in the MLflow UI and the logs in TensorBoard, both
opened from their launcher tiles through the lab's own proxy; the resource monitor shows the
lab's memory limit. Marked ds: last in make test (tests/dsimage.py)."""

from __future__ import annotations

import re
import secrets

import dsimage
import pytest
from browser import login
from dsimage import DS_IMAGE
from harness import ARTIFACTS, PASSWORD, unique_name

from stellars_hub import naming

pytestmark = pytest.mark.ds
MEMORY_MIB = 3072  # a limit the resource monitor must show, unlike the default
HUB_ENV = {"JUPYTERHUB_NOTEBOOK_IMAGE": DS_IMAGE, "JUPYTERHUB_LAB_MEMORY_LIMIT": str(MEMORY_MIB)}
RUN = "e2e-" + secrets.token_hex(3)


@pytest.fixture(scope="module", autouse=True)
def ds_image(docker_engine):
    dsimage.require(docker_engine)


def _cell(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}


NOTEBOOK = {
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}},
    "cells": [
        _cell("import numpy as np, pandas as pd, scipy.stats, sklearn, matplotlib.pyplot as plt\n"
              "import plotly.express as px, ipywidgets\n"
              "from sklearn.linear_model import LinearRegression\n"
              "x = np.linspace(0, 1, 50)\n"
              "df = pd.DataFrame({'x': x, 'y': 2 * x + scipy.stats.norm.rvs(scale=0.05, size=50, random_state=0)})\n"
              "model = LinearRegression().fit(df[['x']], df['y'])\n"
              "fig, ax = plt.subplots()\n"
              "ax.scatter(df.x, df.y)\n"
              "ax.plot(df.x, model.predict(df[['x']]))\n"
              "plt.show()\n"
              "print('slope', round(float(model.coef_[0])))"),
        _cell("px.line(df, x='x', y='y')"),
        _cell("ipywidgets.IntSlider(value=7, description='stellars')"),
        _cell("import mlflow\n"
              f"with mlflow.start_run(run_name='{RUN}') as run:\n"
              "    mlflow.log_metric('slope', float(model.coef_[0]))\n"
              "print('mlflow run', run.info.run_id)"),
        _cell("import os\n"
              "from tensorboardX import SummaryWriter\n"
              f"with SummaryWriter(os.path.join(os.environ['TENSORBOARD_LOGDIR'], '{RUN}')) as writer:\n"
              "    for step in range(10):\n"
              "        writer.add_scalar('e2e/loss', 1 / (step + 1), step)\n"
              "print('tensorboard logs written')"),
    ],
}  # fmt: skip


def test_ds_lab_stack_and_services(hub, page, docker_engine):
    hub.admin_session()
    name = unique_name("ds")
    hub.signup(name)
    hub.authorize(name)

    login(page, hub, name, PASSWORD)
    page.wait_for_url(f"**/user/{name}/lab**", timeout=180_000)
    page.wait_for_selector(".jp-LauncherCard", timeout=180_000)

    # the resource monitor: memory against the lab's limit (MEM_LIMIT from the hub)
    page.wait_for_selector(f".jp-StatusBar-Widget:has-text('/ {MEMORY_MIB}.00 MB')")
    # the services' launcher tiles
    mlflow_tile = page.locator(".jp-LauncherCard", has_text="MLflow")
    tensorboard_tile = page.locator(".jp-LauncherCard", has_text="TensorBoard")
    assert mlflow_tile.count() == 1 and tensorboard_tile.count() == 1

    put = hub.lab(name, "PUT", "api/contents/ds-check.ipynb", json={"type": "notebook", "content": NOTEBOOK})
    assert put.status_code in (200, 201), put.text
    # a busy machine can take longer to connect the notebook's shared document than the
    # collaboration extension waits before asking: answer as a person would, keep waiting
    page.add_locator_handler(
        page.get_by_role("dialog", name=re.compile("taking some time to load")),
        lambda dialog: dialog.get_by_role("button", name="Continue waiting").click(),
    )
    page.goto(hub.base + f"user/{name}/lab/tree/ds-check.ipynb")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    _run_all_cells(page)

    outputs = page.locator(".jp-Notebook .jp-OutputArea-output")
    page.wait_for_selector(".jp-Notebook .jp-OutputArea-output img", timeout=180_000)  # matplotlib
    page.wait_for_selector(".jp-Notebook .js-plotly-plot", timeout=120_000)  # plotly
    page.wait_for_selector(".jp-Notebook .widget-slider", timeout=120_000)  # ipywidgets
    page.wait_for_selector(".jp-Notebook .jp-OutputArea-output:has-text('mlflow run')", timeout=300_000)
    page.wait_for_selector(".jp-Notebook .jp-OutputArea-output:has-text('tensorboard logs written')", timeout=120_000)
    text = "\n".join(outputs.all_inner_texts())
    assert "slope 2" in text and "Error" not in text, text
    # the run is in this lab's store under the user's home, the logs in the workspace
    container = docker_engine.containers.get(naming.container_name(name))
    runs = container.exec_run(
        [
            "python3",
            "-c",
            "import sqlite3; print(sqlite3.connect("
            "'/home/lab/.mlflow/mlflow.db').execute('select name from runs').fetchall())",
        ]
    )
    assert RUN in runs.output.decode(), runs.output
    assert container.exec_run(["ls", f"/home/lab/workspace/tensorboard/{RUN}"]).exit_code == 0

    page.locator(".lm-TabBar-addButton:not(.lm-mod-hidden)").first.click()  # a new launcher, with the services' tiles
    # MLflow, opened from its tile: the notebook's run in the default experiment (its runs, as
    # the UI's "Model training" view lists them)
    with page.expect_popup() as popup:
        mlflow_tile.click()
    mlflow_page = popup.value
    mlflow_page.set_default_timeout(120_000)
    _keep_errors(mlflow_page)
    mlflow_page.wait_for_load_state()
    assert f"/user/{name}/mlflow/" in mlflow_page.url
    mlflow_page.goto(mlflow_page.url.split("#")[0] + "#/experiments/0/runs?workflowType=machine_learning")
    mlflow_page.reload()  # loaded at that route (a route changed while the page still starts can stay empty)
    _shown(mlflow_page, RUN, "mlflow")
    # its usage telemetry is off (no traffic to MLflow's hosts)
    telemetry = hub.lab(name, "GET", "mlflow/ajax-api/3.0/mlflow/ui-telemetry")
    assert telemetry.status_code == 200 and telemetry.json()["disable_ui_telemetry"] is True, telemetry.text
    # the same server at its port, through the lab's proxy
    mlflow_page.goto(hub.base + f"user/{name}/proxy/5000/#/experiments/0/runs?workflowType=machine_learning")
    _shown(mlflow_page, RUN, "mlflow-port")

    # TensorBoard, opened from its tile: the notebook's scalars
    with page.expect_popup() as popup:
        tensorboard_tile.click()
    tb_page = popup.value
    tb_page.set_default_timeout(120_000)
    assert f"/user/{name}/tensorboard/" in tb_page.url
    _shown(tb_page, "e2e/loss", "tensorboard")
    _shown(tb_page, RUN, "tensorboard")

    # both listen on the lab's loopback only (its kernel's table of listening TCP sockets)
    listening = _listening(container)
    assert ("127.0.0.1", 5000) in listening, listening
    assert not any(port == 5000 for host, port in listening if host != "127.0.0.1"), listening


def _run_all_cells(page, attempts: int = 3) -> None:
    """Run > Run All Cells, until the first cell has started: on a busy machine the notebook
    can show its cells and an idle kernel before its shared document is connected, and the
    command then runs nothing."""
    for _ in range(attempts):
        page.locator(".jp-Notebook .jp-Cell .jp-InputPrompt").first.click()  # the notebook has the focus
        page.locator(".lm-MenuBar-item").filter(has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-item").filter(has_text=re.compile(r"^Run All Cells")).click()
        try:
            page.wait_for_selector(
                ".jp-Notebook .jp-InputPrompt:has-text('[*]'), .jp-Notebook .jp-InputPrompt:has-text('[1]')",
                timeout=30_000,
            )
            return
        except Exception:
            continue
    raise AssertionError("Run All Cells did not start the notebook's cells")


def _keep_errors(page) -> None:
    """Collect the page's script errors, failed requests and error answers (kept on failure)."""
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: page.errors.append(f"failed: {r.method} {r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and page.errors.append(f"{r.status}: {r.request.method} {r.url}"))


def _shown(page, text: str, label: str) -> None:
    """Wait until ``text`` shows on a service's page; on failure keep a screenshot of it and
    the page's errors."""
    try:
        page.get_by_text(text).first.wait_for()
    except Exception:
        (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "screenshots" / f"FAILED-ds-lab-{label}.png"), full_page=True)
        errors = "\n".join(getattr(page, "errors", []))
        (ARTIFACTS / "screenshots" / f"FAILED-ds-lab-{label}.txt").write_text(errors)
        raise


def _listening(container) -> set[tuple[str, int]]:
    """(address, port) of the container's listening IPv4 TCP sockets, from /proc/net/tcp."""
    out = container.exec_run(["cat", "/proc/net/tcp"]).output.decode()
    found = set()
    for line in out.splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A":  # LISTEN
            addr, port = local.split(":")
            found.add((".".join(str(int(addr[i : i + 2], 16)) for i in (6, 4, 2, 0)), int(port, 16)))
    return found
