"""The labs' settings (``c.Labs.*``, ``c.NamedServers.*``, ``c.Gpu.*``): what every user's lab
runs and receives, more than one lab per user, and GPUs."""

from __future__ import annotations

from .. import naming
from ..settings import Bool, Enum, Float, Int, SettingsGroup, Unicode


class Labs(SettingsGroup):
    """What every user's lab runs and receives."""

    category = "Labs"

    image = Unicode("stellars/stellars-jupyterlab-ds:latest", help="Image every user's JupyterLab container runs").tag(
        config=True, env="JUPYTERHUB_NOTEBOOK_IMAGE"
    )
    network_name = Unicode(
        "jupyterhub_network", help="Docker network of the labs; 'host' puts each lab on host networking on its own port"
    ).tag(config=True, env="JUPYTERHUB_NETWORK_NAME")
    network_isolation = Bool(
        True,
        help="1: each lab gets its own Docker network <JUPYTERHUB_NETWORK_NAME>-<user> (labs cannot reach each other; the hub joins each); 0: all labs share JUPYTERHUB_NETWORK_NAME",
    ).tag(config=True, env="JUPYTERHUB_LAB_NETWORK_ISOLATION")
    service_mlflow = Bool(True, help="1: the lab starts its MLflow tracking server").tag(
        config=True, env="JUPYTERHUB_SERVICE_MLFLOW"
    )
    service_resources_monitor = Bool(True, help="1: the lab starts its resources monitor").tag(
        config=True, env="JUPYTERHUB_SERVICE_RESOURCES_MONITOR"
    )
    service_tensorboard = Bool(True, help="1: the lab starts TensorBoard").tag(
        config=True, env="JUPYTERHUB_SERVICE_TENSORBOARD"
    )
    tf_cpp_min_log_level = Enum(("0", "1", "2", "3"), "3", help="TensorFlow C++ log level passed to labs").tag(
        config=True, env="TF_CPP_MIN_LOG_LEVEL"
    )
    memory_limit = Int(
        8192,
        min=0,
        max=4194304,
        help="Memory of a lab (kernels included) unless a group policy gives more; over it the engine kills a process in the lab, never outside it (0 = no limit)",
    ).tag(config=True, env="JUPYTERHUB_LAB_MEMORY_LIMIT", unit="MiB")
    cpu_limit = Float(
        4.0, min=0, max=1024, help="CPUs a lab may use at once unless a group policy gives more (0 = no limit)"
    ).tag(config=True, env="JUPYTERHUB_LAB_CPU_LIMIT", unit="CPUs")
    pids_limit = Int(
        4096,
        min=0,
        max=4194304,
        help="Processes and threads a lab may run unless a group policy gives more; stops fork bombs (0 = no limit)",
    ).tag(config=True, env="JUPYTERHUB_LAB_PIDS_LIMIT")
    concurrent_spawn_limit = Int(
        30,
        min=0,
        max=1000,
        help="Lab starts in progress at once; more are refused with 429 and the page asks to retry (0 = no limit)",
    ).tag(config=True, env="JUPYTERHUB_CONCURRENT_SPAWN_LIMIT")
    starts_at_once = Int(
        0,
        min=0,
        max=1000,
        help="Labs the hub starts at once, from their container's start until they answer; later starts wait their turn, so a class's first labs answer in seconds instead of all at the end (0 = one less than the engine's CPUs, at least one: a CPU stays with the hub and its proxy)",
    ).tag(config=True, env="JUPYTERHUB_LAB_STARTS_AT_ONCE")
    cpu_shares = Int(
        256,
        min=0,
        max=262144,
        help="Relative CPU weight of a lab while the CPUs are contended (Docker's cpu_shares; its default 1024 stays the hub's): labs take all idle CPU, but a class of labs starting at once cannot starve the hub (0 = the engine's default)",
    ).tag(config=True, env="JUPYTERHUB_LAB_CPU_SHARES")


class NamedServers(SettingsGroup):
    """More than one lab per user (JupyterHub's named servers), each with its own volumes."""

    category = "Named servers"

    enabled = Bool(
        False, help="1: users may run named servers besides their default one, each with its own container and volumes"
    ).tag(config=True, env="JUPYTERHUB_NAMED_SERVERS")
    limit = Int(3, min=0, max=100, help="Named servers a user may have (0 = no limit)").tag(
        config=True, env="JUPYTERHUB_NAMED_SERVERS_LIMIT"
    )
    shared_home = Bool(
        False, help="1: a user's named servers mount the default server's home volume instead of their own"
    ).tag(config=True, env="JUPYTERHUB_NAMED_SERVERS_SHARED_HOME")


class Gpu(SettingsGroup):
    """GPUs for the labs: off, on, or detected at start-up."""

    category = "GPU"

    enabled = Enum(("0", "1", "2"), "2", help="0 off, 1 on, 2 detect at start-up").tag(
        config=True, env="JUPYTERHUB_GPU_ENABLED"
    )
    nvidia_image = Unicode(
        "nvidia/cuda:13.0.2-base-ubuntu24.04", help="Image used to probe for GPUs with nvidia-smi"
    ).tag(config=True, env="JUPYTERHUB_NVIDIA_IMAGE")


def lab_environment(labs: Labs) -> dict[str, str]:
    """What every lab receives besides JupyterHub's own variables and its spec's."""
    flag = lambda on: "1" if on else "0"  # noqa: E731
    return {
        "JUPYTERHUB_SERVICE_MLFLOW": flag(labs.service_mlflow),
        "JUPYTERHUB_SERVICE_RESOURCES_MONITOR": flag(labs.service_resources_monitor),
        "JUPYTERHUB_SERVICE_TENSORBOARD": flag(labs.service_tensorboard),
        "TENSORBOARD_LOGDIR": f"{naming.NOTEBOOK_DIR}/tensorboard",  # in the workspace: kept, and in the file browser
        "MLFLOW_TRACKING_URI": "http://localhost:5000",
        "MLFLOW_PORT": "5000",
        "MLFLOW_HOST": "127.0.0.1",  # the lab's loopback: reached through the lab's own server proxy
        "MLFLOW_WORKERS": "1",
        "TF_CPP_MIN_LOG_LEVEL": labs.tf_cpp_min_log_level,
    }
