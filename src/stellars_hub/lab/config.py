"""What every lab gets from the site: image, network, services, limits (``c.Labs.*``), named
servers (``c.NamedServers.*``) and GPUs (``c.Gpu.*``)."""

from traitlets.config import Configurable

from ..settings import setting


class Labs(Configurable):
    """What every user's lab runs and receives."""

    image = setting("JUPYTERHUB_NOTEBOOK_IMAGE")
    network_name = setting("JUPYTERHUB_NETWORK_NAME")
    network_isolation = setting("JUPYTERHUB_LAB_NETWORK_ISOLATION")
    service_mlflow = setting("JUPYTERHUB_SERVICE_MLFLOW")
    service_resources_monitor = setting("JUPYTERHUB_SERVICE_RESOURCES_MONITOR")
    service_tensorboard = setting("JUPYTERHUB_SERVICE_TENSORBOARD")
    tf_cpp_min_log_level = setting("TF_CPP_MIN_LOG_LEVEL")
    memory_limit = setting("JUPYTERHUB_LAB_MEMORY_LIMIT")
    cpu_limit = setting("JUPYTERHUB_LAB_CPU_LIMIT")
    pids_limit = setting("JUPYTERHUB_LAB_PIDS_LIMIT")
    concurrent_spawn_limit = setting("JUPYTERHUB_CONCURRENT_SPAWN_LIMIT")
    starts_at_once = setting("JUPYTERHUB_LAB_STARTS_AT_ONCE")
    cpu_shares = setting("JUPYTERHUB_LAB_CPU_SHARES")


class NamedServers(Configurable):
    """More than one lab per user (JupyterHub's named servers), each with its own volumes."""

    enabled = setting("JUPYTERHUB_NAMED_SERVERS")
    limit = setting("JUPYTERHUB_NAMED_SERVERS_LIMIT")
    shared_home = setting("JUPYTERHUB_NAMED_SERVERS_SHARED_HOME")


class Gpu(Configurable):
    """GPUs for the labs: off, on, or detected at start-up."""

    enabled = setting("JUPYTERHUB_GPU_ENABLED")
    nvidia_image = setting("JUPYTERHUB_NVIDIA_IMAGE")


def lab_environment(labs: Labs) -> dict[str, str]:
    """What every lab receives besides JupyterHub's own variables and its spec's."""
    flag = lambda on: "1" if on else "0"  # noqa: E731
    return {
        "JUPYTERHUB_SERVICE_MLFLOW": flag(labs.service_mlflow),
        "JUPYTERHUB_SERVICE_RESOURCES_MONITOR": flag(labs.service_resources_monitor),
        "JUPYTERHUB_SERVICE_TENSORBOARD": flag(labs.service_tensorboard),
        "TENSORBOARD_LOGDIR": "/tmp/tensorboard/logs",
        "MLFLOW_TRACKING_URI": "http://localhost:5000",
        "MLFLOW_PORT": "5000",
        "MLFLOW_HOST": "127.0.0.1",  # the lab's loopback: reached through the lab's own server proxy
        "MLFLOW_WORKERS": "1",
        "TF_CPP_MIN_LOG_LEVEL": labs.tf_cpp_min_log_level,
    }
