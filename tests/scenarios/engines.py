"""What the engine under a hub reports, asked the same way on both backends: a lab is a Docker
container or a pod's lab container, a volume a Docker volume or a persistent volume claim. Every
answer comes from the engine itself (``docker inspect``, the API server), never from the hub."""

from __future__ import annotations

import io
import json
import secrets
import tarfile
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import docker
from harness import LAB_IMAGE, RUN_PREFIX, engine
from kubecluster import NODE, Cluster

from stellars_hub.backends.kubernetes import LAB_CONTAINER, VOLUME_ANNOTATION
from stellars_hub.backends.kubernetes.podspec import claim_name
from stellars_hub.backends.kubernetes.runtime import parse_quantity


@dataclass(frozen=True)
class Mount:
    source: str  # a platform volume name (Docker volume, or the claim's volume) or a host path
    host: bool  # a host path
    read_only: bool


@dataclass
class Lab:
    """One lab as its engine reports it."""

    id: str  # the container's id, the pod's uid
    started_at: str  # when the lab process last started (a restart in place changes it)
    running: bool
    env: dict[str, str]
    mounts: dict[str, Mount]  # mount point -> what is mounted there
    memory_bytes: int | None  # the limit (None: none)
    cpus: float | None
    privileged: bool
    labels: dict[str, str] = field(default_factory=dict)
    pids: int | None = None  # Docker only: Kubernetes has no per-pod process limit
    requests: dict[str, float] = field(default_factory=dict)  # Kubernetes only: what the scheduler reserves


class Engine(ABC):
    name: str

    @abstractmethod
    def lab(self, lab: str) -> Lab | None:
        """The lab container/pod named ``lab`` (naming.server_container_name), None when absent."""

    @abstractmethod
    def exec(self, lab: str, command: str) -> tuple[int, str]:
        """``sh -c command`` inside the running lab, as the lab's own user."""

    @abstractmethod
    def spin(self, lab: str, seconds: int) -> None:
        """A busy loop inside the lab for ``seconds`` (no activity the hub counts), not waited on."""

    @abstractmethod
    def volumes(self, prefix: str) -> set[str]:
        """The platform names of the existing volumes that start with ``prefix``."""

    def volume_exists(self, volume: str) -> bool:
        return volume in self.volumes(volume)

    @abstractmethod
    def fill(self, files: dict[str, dict[str, str | int]]) -> None:
        """Create the volumes (platform names) with the given files (path inside -> text, or a
        number of random bytes), as a lab would have left them (the volumes may exist already)."""

    @abstractmethod
    def read(self, volume: str, path: str) -> str | None:
        """A file's text in a volume, or None when the file does not exist."""

    @abstractmethod
    def data_volume(self, name: str) -> str:
        """An operator's own volume for a policy to mount (Docker volume / claim); its source name."""

    @abstractmethod
    def kill(self, lab: str) -> None:
        """The lab dies behind the hub's back."""

    def wait_gone(self, lab: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.lab(lab) is not None:
            assert time.monotonic() < deadline, f"{lab} still there after {timeout} s"
            time.sleep(1)

    @abstractmethod
    def cleanup(self) -> None:
        """Remove what this engine view made for the tests (data volumes)."""


def _write(path: str, text: str | int) -> str:
    """A shell line that writes ``text`` (or that many random bytes) to ``path``."""
    content = f"head -c {text} /dev/urandom" if isinstance(text, int) else f"printf '%s' '{text}'"
    return f'mkdir -p "$(dirname {path})" && {content} > {path}'


class DockerEngine(Engine):
    name = "docker"

    def __init__(self):
        self.client = engine()
        self._made: list[str] = []

    def lab(self, lab: str) -> Lab | None:
        try:
            info = self.client.api.inspect_container(lab)
        except docker.errors.NotFound:
            return None
        host = info["HostConfig"]
        mounts = {
            m["Destination"]: Mount(
                m["Name"] if m["Type"] == "volume" else m["Source"], m["Type"] == "bind", not m["RW"]
            )
            for m in info["Mounts"]
        }
        return Lab(
            id=info["Id"],
            started_at=info["State"]["StartedAt"],
            running=info["State"]["Running"],
            env=dict(e.split("=", 1) for e in info["Config"]["Env"]),
            mounts=mounts,
            memory_bytes=host.get("Memory") or None,
            cpus=(host.get("NanoCpus") or 0) / 1e9 or None,
            privileged=bool(host.get("Privileged")),
            labels=dict(info["Config"].get("Labels") or {}),
            pids=host.get("PidsLimit") or None,
        )

    def exec(self, lab: str, command: str) -> tuple[int, str]:
        code, out = self.client.containers.get(lab).exec_run(["sh", "-c", command])
        return code, out.decode()

    def spin(self, lab: str, seconds: int) -> None:
        self.client.containers.get(lab).exec_run(
            ["timeout", str(seconds), "sh", "-c", "while :; do :; done"], detach=True
        )

    def volumes(self, prefix: str) -> set[str]:
        return {v.name for v in self.client.volumes.list(filters={"name": prefix}) if v.name.startswith(prefix)}

    def fill(self, files: dict[str, dict[str, str | int]]) -> None:
        mounts, script = {}, []
        for i, (volume, content) in enumerate(files.items()):
            self.client.volumes.create(volume)
            mounts[volume] = {"bind": f"/v{i}"}
            script += [_write(f"/v{i}/{path}", text) for path, text in content.items()]
        self.client.containers.run(
            LAB_IMAGE,
            entrypoint=["sh", "-c"],
            command=[" && ".join(script) or "true"],
            volumes=mounts,
            user="root",
            network_mode="none",
            remove=True,
        )

    def read(self, volume: str, path: str) -> str | None:
        # through the engine's archive API: the engine drops a last line without a newline from
        # a container's output now and then
        holder = self.client.containers.create(
            LAB_IMAGE, ["true"], entrypoint=[], network_mode="none", volumes={volume: {"bind": "/v", "mode": "ro"}}
        )
        try:
            try:
                stream, _ = holder.get_archive(f"/v/{path}")
            except docker.errors.NotFound:
                return None
            with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
                content = tar.extractfile(tar.getmembers()[0])
                assert content is not None
                return content.read().decode()
        finally:
            holder.remove(force=True)

    def data_volume(self, name: str) -> str:
        self.client.volumes.create(name)
        self._made.append(name)
        return name

    def kill(self, lab: str) -> None:
        self.client.containers.get(lab).kill()

    def cleanup(self) -> None:
        for name in self._made:
            try:
                self.client.volumes.get(name).remove(force=True)
            except docker.errors.APIError:
                pass


class KubeEngine(Engine):
    name = "kubernetes"

    def __init__(self, cluster: Cluster, storage_class: str = ""):
        self.cluster = cluster
        self.storage_class = storage_class  # of the claims made here ("": the cluster's default)

    def _claims(self) -> dict[str, str]:
        """claim -> its platform volume name (the spawner's annotation; an operator's claim: itself)."""
        return {
            c["metadata"]["name"]: (c["metadata"].get("annotations") or {}).get(
                VOLUME_ANNOTATION, c["metadata"]["name"]
            )
            for c in self.cluster.items("pvc")
            if not c["metadata"].get("deletionTimestamp")
        }

    def pod(self, lab: str) -> dict | None:
        return self.cluster.get("pod", lab)

    def lab(self, lab: str) -> Lab | None:
        pod = self.pod(lab)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return None
        ctr = next(c for c in pod["spec"]["containers"] if c["name"] == LAB_CONTAINER)
        statuses = pod["status"].get("containerStatuses") or []
        status: dict = next((s for s in statuses if s["name"] == LAB_CONTAINER), {})
        running = (status.get("state") or {}).get("running")
        claims = self._claims()
        volumes = {v["name"]: v for v in pod["spec"].get("volumes") or []}
        mounts = {}
        for m in ctr.get("volumeMounts") or []:
            v = volumes[m["name"]]
            if "persistentVolumeClaim" in v:
                claim = v["persistentVolumeClaim"]["claimName"]
                mounts[m["mountPath"]] = Mount(claims.get(claim, claim), False, bool(m.get("readOnly")))
            elif "hostPath" in v:
                mounts[m["mountPath"]] = Mount(v["hostPath"]["path"], True, bool(m.get("readOnly")))
        limits = (ctr.get("resources") or {}).get("limits") or {}
        requests = (ctr.get("resources") or {}).get("requests") or {}
        return Lab(
            id=pod["metadata"]["uid"],
            started_at=(running or {}).get("startedAt", ""),
            running=bool(running) and pod["status"].get("phase") == "Running",
            env={e["name"]: e.get("value", "") for e in ctr.get("env") or []},
            mounts=mounts,
            memory_bytes=int(parse_quantity(limits["memory"])) if "memory" in limits else None,
            cpus=parse_quantity(limits["cpu"]) if "cpu" in limits else None,
            privileged=bool((ctr.get("securityContext") or {}).get("privileged")),
            labels=dict(pod["metadata"].get("labels") or {}),
            requests={k: parse_quantity(v) for k, v in requests.items()},
        )

    def exec(self, lab: str, command: str) -> tuple[int, str]:
        proc = self.cluster.run("exec", lab, "-c", LAB_CONTAINER, "--", "sh", "-c", command, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def spin(self, lab: str, seconds: int) -> None:
        # detached from the exec session, which ends at once
        code, out = self.exec(
            lab, f"setsid nohup timeout {seconds} sh -c 'while :; do :; done' >/dev/null 2>&1 < /dev/null &"
        )
        assert code == 0, out

    def volumes(self, prefix: str) -> set[str]:
        return {v for v in self._claims().values() if v.startswith(prefix)}

    def _claim_manifest(self, volume: str, annotated: bool = True) -> dict:
        meta: dict = {"name": claim_name(volume)}
        if annotated:  # as the spawner makes them, so the hub finds them by their volume's name
            meta.update(
                labels={"app.kubernetes.io/managed-by": "stellars-jupyterhub-ds", "component": "lab-volume"},
                annotations={VOLUME_ANNOTATION: volume},
            )
        spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
        if self.storage_class:
            spec["storageClassName"] = self.storage_class
        return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec}

    def _run_pod(self, mounts: dict[str, tuple[str, bool]], script: str) -> tuple[int, str]:
        """A short-lived pod (the lab image, as root, no service account token) with the claims
        mounted (claim -> (path, read-only)); its exit code and output."""
        name = f"{RUN_PREFIX}-probe-{secrets.token_hex(3)}"
        volumes, volume_mounts = [], []
        for i, (claim, (path, read_only)) in enumerate(mounts.items()):
            volumes.append({"name": f"v{i}", "persistentVolumeClaim": {"claimName": claim, "readOnly": read_only}})
            volume_mounts.append({"name": f"v{i}", "mountPath": path, "readOnly": read_only})
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "nodeSelector": {"kubernetes.io/hostname": NODE},
                "containers": [
                    {
                        "name": "probe",
                        "image": LAB_IMAGE,
                        "imagePullPolicy": "Never",
                        "command": ["sh", "-c", script],
                        "securityContext": {"runAsUser": 0},
                        "volumeMounts": volume_mounts,
                    }
                ],
                "volumes": volumes,
            },
        }
        self.cluster.run("apply", "-f", "-", input=json.dumps(pod))
        try:
            deadline = time.monotonic() + 180
            while True:
                got = self.cluster.get("pod", name) or {}
                ended = next(
                    (
                        s["state"]["terminated"]
                        for s in got.get("status", {}).get("containerStatuses") or []
                        if "terminated" in (s.get("state") or {})
                    ),
                    None,
                )
                if ended is not None:
                    return ended["exitCode"], self.cluster.run("logs", name, check=False).stdout
                assert time.monotonic() < deadline, f"probe pod {name} did not finish: {got.get('status')}"
                time.sleep(0.5)
        finally:
            self.cluster.run("delete", "pod", name, "--grace-period=0", "--wait=false", check=False)

    def fill(self, files: dict[str, dict[str, str | int]]) -> None:
        claims = {"apiVersion": "v1", "kind": "List", "items": [self._claim_manifest(v) for v in files]}
        self.cluster.run("apply", "-f", "-", input=json.dumps(claims))
        mounts, script = {}, []
        for i, (volume, content) in enumerate(files.items()):
            mounts[claim_name(volume)] = (f"/v{i}", False)
            script += [_write(f"/v{i}/{path}", text) for path, text in content.items()]
        code, out = self._run_pod(mounts, " && ".join(script) or "true")
        assert code == 0, out

    def read(self, volume: str, path: str) -> str | None:
        code, out = self._run_pod(
            {claim_name(volume): ("/v", True)},
            f"if [ -e /v/{path} ]; then echo present; cat /v/{path}; else echo absent; fi",
        )
        assert code == 0, out
        state, _, text = out.partition("\n")
        return text if state == "present" else None

    def data_volume(self, name: str) -> str:
        self.cluster.run("apply", "-f", "-", input=json.dumps(self._claim_manifest(name, annotated=False)))
        return name

    def cleanup(self) -> None:
        pass  # the module's claims go with its storage, every claim with the run's namespace

    def kill(self, lab: str) -> None:
        # the pod vanishes at once (no grace period), as a node that dies takes its labs along
        self.cluster.run("delete", "pod", lab, "--grace-period=0", "--force", "--wait=false")
