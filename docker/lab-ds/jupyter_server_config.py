# The DS lab's services, switched by the hub for every lab (JUPYTERHUB_SERVICE_<NAME>: 1 on,
# 0 off; on when unset). MLflow and TensorBoard are jupyter-server-proxy entries: a launcher tile
# each, reached only through this lab's own authenticated server (/user/<name>/mlflow/, or
# /user/<name>/proxy/<port>/), started on first use (MLflow also by a notebook's first run: see
# services/) and supervised by the proxy. A switched off service has no entry, no tile and no
# process. Read at every lab start from the image's /opt/lab/etc/jupyter (never from the home
# volume, which keeps what the image had at the user's first start).
import os

c = get_config()  # noqa: F821  (provided by Jupyter's config loader)

ICONS = "/opt/lab/share/stellars/icons"
HOME = os.path.expanduser("~")


def switched_on(service: str) -> bool:
    return os.environ.get(f"JUPYTERHUB_SERVICE_{service}", "1") == "1"


servers = {}
if switched_on("MLFLOW"):
    # one server per lab, whoever starts it: this entry, or a notebook's first MLflow request
    # (stellars_lab_services, in the image); see stellars_lab_services/mlflow_server.py
    servers["mlflow"] = {
        "command": ["python3", "-m", "stellars_lab_services.mlflow_server"],
        "port": int(os.environ.get("MLFLOW_PORT", "5000")),
        "timeout": 120,  # a first start creates the store's tables
        "launcher_entry": {"title": "MLflow", "icon_path": f"{ICONS}/mlflow.svg"},
    }
if switched_on("TENSORBOARD"):
    servers["tensorboard"] = {
        "command": [
            "tensorboard",
            "--logdir", os.environ.get("TENSORBOARD_LOGDIR", os.path.join(HOME, "workspace", "tensorboard")),
            "--host", "127.0.0.1",
            "--port", "{port}",  # a free port the proxy picks
        ],
        "timeout": 120,
        "launcher_entry": {"title": "TensorBoard", "icon_path": f"{ICONS}/tensorboard.svg"},
    }
c.ServerProxy.servers = servers

if switched_on("RESOURCES_MONITOR"):
    # memory and CPU against the lab's limits (MEM_LIMIT in bytes and CPU_LIMIT, set by the hub)
    c.ResourceUseDisplay.track_cpu_percent = True
else:  # its server extension not loaded: its API answers 404 and the status bar shows nothing
    c.ServerApp.jpserver_extensions = {"jupyter_resource_usage": False}
