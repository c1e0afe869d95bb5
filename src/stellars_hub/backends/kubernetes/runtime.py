"""Kubernetes implementation of ContainerRuntime, on kubernetes_asyncio (KubeSpawner's client).

What the features need, in Kubernetes terms:
- a lab "container" is the user's pod (``jupyterlab-<escaped name>``); its id is the pod uid,
  which stays the same across Restart Server;
- restart in place: SIGTERM to the lab's main process through the API server's exec; the pod's
  ``restartPolicy: Always`` makes the kubelet start the lab container again in the same pod
  (same uid, claims and address, restart count + 1);
- volumes are persistent volume claims (names: ``kube.claim_name``);
- statistics come from the resource metrics API where the cluster serves it (a metrics server),
  else from the kubelets' summary API through the API server's node proxy;
- GPUs are the nodes' allocatable ``nvidia.com/gpu``.

Every call is a coroutine on the hub's loop (the client is asynchronous), bounded by a timeout;
an API server that does not answer raises EngineUnavailable (503).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from pathlib import Path
from typing import Any, cast

import aiohttp
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client.rest import ApiException

from ...runtime.base import (
    HUB_LABEL,
    RUN_ID,
    TOOL_HUB_LABEL,
    TOOL_RUN_LABEL,
    ContainerRuntime,
    ContainerStats,
    EngineError,
    EngineUnavailable,
    GpuProbe,
    LabObject,
    NotFound,
    RuntimeConflict,
    ToolResult,
    VolumeInfo,
)
from . import LAB_CONTAINER, VOLUME_ANNOTATION, default_namespace, toolpod
from .podspec import GPU_RESOURCE, claim_name
from .settings import Kubernetes

_UNREACHABLE = (aiohttp.ClientError, OSError, asyncio.TimeoutError)
RESTART_POLL = 0.5  # seconds between pod reads while the kubelet restarts the lab container
TOOL_READ_TRIES = 5  # reads of a tool pod that may find no answer in a row before the tool fails
CLAIM_GONE_TIMEOUT = 60.0  # seconds a deleted claim may take to go (protection finalizer)
METRICS_API = "metrics.k8s.io/v1beta1"
UPLOADED = "/tmp/.stellars-upload-done"  # a tool with a file of the hub's starts its work once this exists
UPLOAD_CHUNK = 256 * 1024  # bytes per stdin frame of the exec stream
STATS_SOURCE_TTL = 600.0  # seconds between API discoveries of the metrics API
STATS_SOURCES = {
    "metrics": f"resource metrics API ({METRICS_API})",
    "summary": "kubelets' summary API (through the API server's node proxy)",
}

log = logging.getLogger("JupyterHub.kubernetes")  # a child of the hub's logger: in its log


class KubernetesRuntime(ContainerRuntime):
    @classmethod
    def for_settings(cls, settings) -> KubernetesRuntime:
        k8s = settings(Kubernetes)
        return cls(
            k8s.namespace,
            storage_class=k8s.storage_class,
            volume_size=k8s.volume_size,
            shared_storage_class=k8s.shared_storage_class,
        )

    def __init__(
        self,
        namespace: str = "",
        timeout: float = 30.0,
        storage_class: str = "",
        volume_size: str = "10Gi",
        shared_storage_class: str = "",
    ):
        self.namespace = default_namespace(namespace)
        self.storage_class = storage_class  # of the claims a tool pod needs and nobody made yet
        self.shared_storage_class = shared_storage_class  # of the groups' project folders (ReadWriteMany)
        self.volume_size = volume_size
        self._timeout = timeout
        self._api: k8s.ApiClient | None = None
        self._config: k8s.Configuration | None = None
        self._names_by_uid: dict[str, str] = {}
        self._stats_source: tuple[str, float] | None = None  # (source, when it was decided)

    # -- plumbing -------------------------------------------------------------------------
    async def _configuration(self) -> k8s.Configuration:
        if self._config is None:
            from kubespawner.clients import load_config  # the same global config KubeSpawner uses

            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(None, load_config)
            except Exception as exc:
                raise EngineUnavailable(f"no Kubernetes configuration (service account or kubeconfig): {exc}") from exc
            self._config = k8s.Configuration.get_default_copy()
        return self._config

    async def _core(self) -> k8s.CoreV1Api:
        if self._api is None:
            self._api = k8s.ApiClient(configuration=await self._configuration())
        return k8s.CoreV1Api(self._api)

    async def _call(self, make, timeout: float | None = None):
        """Run ``make(core_v1_api)`` (a coroutine) and map the client's errors to the engine's."""
        try:
            core = await self._core()
            return await asyncio.wait_for(make(core), timeout or self._timeout)
        except ApiException as exc:
            raise _mapped(exc) from exc
        except _UNREACHABLE as exc:
            raise EngineUnavailable("the Kubernetes API server is not reachable") from exc

    async def _pod(self, name: str) -> dict | None:
        try:
            pod = await self._call(lambda v1: v1.read_namespaced_pod(name, self.namespace))
        except NotFound:
            return None
        return cast(k8s.ApiClient, self._api).sanitize_for_serialization(pod)  # made by _call

    async def _raw_get(self, path: str) -> dict:
        """GET an API server path whose answer is not a typed object (the node proxy)."""

        async def get(_v1):
            resp = await self._api.call_api(
                path, "GET", auth_settings=["BearerToken"], _preload_content=False, _request_timeout=self._timeout
            )
            body = await resp.read()
            if not 200 <= resp.status <= 299:  # raw answers are not checked by the client
                raise ApiException(status=resp.status, reason=body.decode(errors="replace")[:200])
            return json.loads(body)

        return await self._call(get)

    # -- interface ------------------------------------------------------------------------
    async def ping(self) -> None:
        await self._call(lambda v1: k8s.VersionApi(self._api).get_code())

    # -- reconcile ------------------------------------------------------------------------
    async def remove_leftovers(self, lab: str, network: str = "") -> list[str]:
        """The lab's pod, whatever its phase (one the kubelet gave up on, an evicted one): the
        claims stay, they are the user's volumes. Pods have no network of their own."""
        try:
            await self._call(lambda v1: v1.delete_namespaced_pod(lab, self.namespace, grace_period_seconds=0))
        except NotFound:
            return []  # KubeSpawner's stop deleted it (the usual case)
        return [lab]

    async def hub_labs(self, hub_id: str) -> list[LabObject]:
        pods = await self._call(
            lambda v1: v1.list_namespaced_pod(self.namespace, label_selector=f"{HUB_LABEL}={hub_id}")
        )
        return [
            LabObject(p.metadata.name, (p.status.phase if p.status else "") in ("Pending", "Running"))
            for p in pods.items
        ]

    async def earlier_tools(self, hub_id: str) -> list[LabObject]:
        selector = f"{TOOL_HUB_LABEL}={hub_id},{TOOL_RUN_LABEL}!={RUN_ID}"
        pods = await self._call(lambda v1: v1.list_namespaced_pod(self.namespace, label_selector=selector))
        return [
            LabObject(
                p.metadata.name,
                (p.status.phase if p.status else "") in ("Pending", "Running"),
                toolpod.volumes_of(p.metadata.annotations),
                toolpod.exit_code(p.status),
            )
            for p in pods.items
        ]

    async def remove_tool(self, name: str) -> None:
        try:
            await self._call(lambda v1: v1.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0))
        except NotFound:
            pass

    async def inspect_container(self, name: str) -> dict | None:
        name = self._names_by_uid.get(name, name)
        pod = await self._pod(name)
        if pod is None:
            return None
        doc = _inspect_document(pod)
        self._names_by_uid[doc["Id"]] = name
        return doc

    async def restart_container(self, name: str, timeout: int) -> dict:
        name = self._names_by_uid.get(name, name)
        pod = await self._pod(name)
        if pod is None:
            raise NotFound(f"no pod {name} in namespace {self.namespace}")
        before = _lab_status(pod)
        count = before.get("restartCount", 0)
        started = ((before.get("state") or {}).get("running") or {}).get("startedAt")
        await self._signal_lab(name)
        # the lab gets ``timeout`` seconds to stop on SIGTERM; the kubelet then starts it again
        # at once (a second restart within 10 minutes waits for the kubelet's crash back-off)
        deadline = time.monotonic() + timeout + 60
        while time.monotonic() < deadline:
            await asyncio.sleep(RESTART_POLL)
            pod = await self._pod(name)
            if pod is None:
                raise NotFound(f"pod {name} went away during the restart")
            status = _lab_status(pod)
            running = (status.get("state") or {}).get("running") or {}
            if status.get("restartCount", 0) > count and running.get("startedAt") != started and running:
                doc = _inspect_document(pod)
                self._names_by_uid[doc["Id"]] = name
                return doc
        raise RuntimeConflict(
            f"the lab in pod {name} did not stop and start again within {timeout + 60} s "
            "(a lab that ignores SIGTERM cannot be restarted in place; stop the server and start it again)"
        )

    async def _signal_lab(self, name: str) -> None:
        """SIGTERM to the lab's main process; the exec stream ends when the container stops."""
        from kubernetes_asyncio.stream import WsApiClient

        conf = await self._configuration()
        try:
            async with WsApiClient(configuration=conf) as ws:
                await asyncio.wait_for(
                    k8s.CoreV1Api(ws).connect_get_namespaced_pod_exec(
                        name,
                        self.namespace,
                        container=LAB_CONTAINER,
                        command=["sh", "-c", "kill -TERM 1"],  # type: ignore[arg-type]
                        stderr=True,
                        stdin=False,
                        stdout=True,
                        tty=False,
                    ),
                    self._timeout,
                )
        except ApiException as exc:
            raise _mapped(exc) from exc
        except asyncio.TimeoutError:
            pass  # the stream may hang while the container goes away; the status loop decides
        except (aiohttp.ClientConnectorError, ConnectionRefusedError) as exc:
            raise EngineUnavailable("the Kubernetes API server is not reachable") from exc
        except aiohttp.ClientError:
            pass  # connection closed by the stopping container

    async def volumes(self, names: list[str], with_sizes: bool = False) -> dict[str, VolumeInfo]:
        claims = {n: claim_name(n) for n in names}
        pvcs = await self._call(lambda v1: v1.list_namespaced_persistent_volume_claim(self.namespace))
        existing = {p.metadata.name for p in pvcs.items}
        pods = await self._call(lambda v1: v1.list_namespaced_pod(self.namespace))
        users: dict[str, list[str]] = {}
        nodes = set()
        for pod in pods.items:
            if pod.status.phase in ("Succeeded", "Failed"):
                continue
            for vol in pod.spec.volumes or []:
                if vol.persistent_volume_claim:
                    users.setdefault(vol.persistent_volume_claim.claim_name, []).append(pod.metadata.name)
                    if pod.spec.node_name:
                        nodes.add(pod.spec.node_name)
        sizes: dict[str, int] = {}
        if with_sizes and any(c in users for c in claims.values()):
            sizes = await self._claim_usage(nodes)
        return {n: VolumeInfo(n, c in existing, sizes.get(c), tuple(users.get(c, ()))) for n, c in claims.items()}

    async def volume_sizes(self) -> dict[str, int]:
        """Bytes used per claim mounted by a running pod, as its node's kubelet measures it (the
        summary's pod volume statistics), under the volume's platform name; unknown for claims
        no pod mounts and for storage whose volume plugin measures nothing (hostPath among them)."""
        pvcs = await self._call(lambda v1: v1.list_namespaced_persistent_volume_claim(self.namespace))
        names = {
            p.metadata.name: (p.metadata.annotations or {}).get(VOLUME_ANNOTATION, p.metadata.name) for p in pvcs.items
        }
        pods = await self._call(lambda v1: v1.list_namespaced_pod(self.namespace))
        nodes = {
            pod.spec.node_name
            for pod in pods.items
            if pod.status.phase == "Running"
            and pod.spec.node_name
            and any(v.persistent_volume_claim for v in pod.spec.volumes or [])
        }
        used = await self._claim_usage(nodes)
        return {names[claim]: size for claim, size in used.items() if claim in names}

    async def _claim_usage(self, nodes) -> dict[str, int]:
        """Bytes used per mounted claim, as the kubelets measure them (unmounted: unknown)."""
        used: dict[str, int] = {}
        for node in nodes:
            try:
                summary = await self._raw_get(f"/api/v1/nodes/{node}/proxy/stats/summary")
            except EngineError:
                continue  # sizes are optional; a kubelet that does not answer leaves them unknown
            for pod in summary.get("pods") or []:
                for vol in pod.get("volume") or []:
                    ref = vol.get("pvcRef") or {}
                    if ref.get("namespace") == self.namespace and vol.get("usedBytes") is not None:
                        used[ref["name"]] = vol["usedBytes"]
        return used

    async def volume_names(self, prefix: str) -> list[str]:
        pvcs = await self._call(lambda v1: v1.list_namespaced_persistent_volume_claim(self.namespace))
        names = ((p.metadata.annotations or {}).get(VOLUME_ANNOTATION) for p in pvcs.items)
        return sorted(n for n in names if n and n.startswith(prefix))

    async def remove_volume(self, name: str) -> None:
        claim = claim_name(name)
        await self._call(lambda v1: v1.delete_namespaced_persistent_volume_claim(claim, self.namespace))
        # the claim stays (Terminating) until no pod uses it: wait, so that the next start
        # creates a fresh one instead of meeting the old one
        deadline = time.monotonic() + CLAIM_GONE_TIMEOUT
        while time.monotonic() < deadline:
            try:
                await self._call(lambda v1: v1.read_namespaced_persistent_volume_claim(claim, self.namespace))
            except NotFound:
                return
            await asyncio.sleep(0.5)
        raise RuntimeConflict(f"claim {claim} is marked for deletion but still held (is a pod using it?)")

    # -- scheduled backups, restores, volume copies ------------------------------------------
    async def run_tool(
        self, image: str, command: list[str], mounts: dict[str, tuple[str, str]], timeout: float = 3600.0
    ) -> ToolResult:
        """A tool pod (``toolpod``) that runs ``command`` to its end; a claim it needs that does not
        exist yet (a backup target, a volume being restored) is made first, as Docker makes a named
        volume it mounts. A pod that cannot start (its image cannot be had, say) ends the tool at
        once with the kubelet's reason instead of waiting ``timeout``."""
        return await self._tool(image, command, mounts, timeout)

    async def run_tool_with_file(
        self,
        image: str,
        command: list[str],
        mounts: dict[str, tuple[str, str]],
        source: Path,
        at: str,
        timeout: float = 3600.0,
    ) -> ToolResult:
        """A tool pod whose command waits until the hub's file arrived: sent through the API
        server's exec into the pod (stdin, a known byte count: the exec protocol of older API
        servers cannot close stdin), then the command runs as in ``run_tool``."""
        waiting = (
            f'n=0; until [ -e {UPLOADED} ]; do n=$((n+1)); [ "$n" -lt 3000 ] || '
            '{ echo "the hub\'s file never arrived"; exit 1; }; sleep 0.2; done; exec "$@"'
        )
        wrapped = ["sh", "-c", waiting, "tool", *command]
        return await self._tool(image, wrapped, mounts, timeout, upload=(source, at))

    async def _tool(
        self,
        image: str,
        command: list[str],
        mounts: dict[str, tuple[str, str]],
        timeout: float,
        upload: tuple[Path, str] | None = None,
    ) -> ToolResult:
        claims = {claim_name(s) for s in mounts if not s.startswith("/")}
        for source, (_target, mode) in mounts.items():
            if not source.startswith("/") and mode == "rw":
                await self._ensure_claim(source)
        name = f"stellars-tool-{secrets.token_hex(4)}"
        node = await self._node_holding(claims)
        await self._call(
            lambda v1: v1.create_namespaced_pod(
                self.namespace, toolpod.manifest(name, image, command, mounts, node, self.tool_labels())
            )
        )
        try:
            if upload is not None:
                if not await self._wait_until_running(name, min(timeout, 300.0)):
                    return ToolResult(-1, "the tool pod did not start within 300 s")
                await self._send_file(name, *upload)
            ended = await self._wait_for_end(name, timeout)
            if isinstance(ended, str):
                return ToolResult(-1, ended)
            output = await self._tool_output(name)
            if ended is None:
                return ToolResult(-1, f"{output}\ndid not finish within {timeout:.0f} s")
            return ToolResult(ended, output)
        finally:
            try:
                await self._call(lambda v1: v1.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0))
            except EngineError as exc:
                log.warning("Tool pod %s not removed: %s", name, exc)

    async def _tool_output(self, name: str) -> str:
        for attempt in range(1, TOOL_READ_TRIES + 1):
            try:
                return await self._call(
                    lambda v1: v1.read_namespaced_pod_log(name, self.namespace, container="tool"), timeout=60
                )
            except EngineUnavailable:
                if attempt == TOOL_READ_TRIES:
                    raise
                await asyncio.sleep(RESTART_POLL * attempt)
        return ""

    async def _node_holding(self, claims: set[str]) -> str | None:
        """The node of a pod that mounts one of ``claims`` (a running lab's): a ReadWriteOnce
        claim is attached to one node at a time, so the tool pod must run there too."""
        if not claims:
            return None
        pods = await self._call(lambda v1: v1.list_namespaced_pod(self.namespace))
        for pod in pods.items:
            if pod.status.phase in ("Succeeded", "Failed") or not pod.spec.node_name:
                continue
            if any(
                v.persistent_volume_claim and v.persistent_volume_claim.claim_name in claims
                for v in pod.spec.volumes or []
            ):
                return pod.spec.node_name
        return None

    async def _wait_until_running(self, name: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pod = await self._pod(name)
            for status in ((pod or {}).get("status") or {}).get("containerStatuses") or []:
                state = status.get("state") or {}
                if "running" in state or "terminated" in state:
                    return "running" in state
                if (state.get("waiting") or {}).get("reason") in toolpod.CANNOT_START:
                    return False
            await asyncio.sleep(RESTART_POLL)
        return False

    async def _send_file(self, name: str, source: Path, at: str) -> None:
        """``source`` into the running tool at ``at`` through an exec's stdin (channel 0)."""
        from kubernetes_asyncio.stream import WsApiClient

        size = source.stat().st_size
        script = f'head -c {size} > "$1.part" && [ "$(stat -c %s "$1.part")" = {size} ] && mv "$1.part" "$1" && touch {UPLOADED}'
        conf = await self._configuration()
        errors = ""
        try:
            async with WsApiClient(configuration=conf) as ws_api:
                exec_ws: Any = await k8s.CoreV1Api(ws_api).connect_get_namespaced_pod_exec(
                    name,
                    self.namespace,
                    container="tool",
                    command=["sh", "-c", script, "upload", at],  # type: ignore[arg-type]
                    stdin=True,
                    stdout=True,
                    stderr=True,
                    tty=False,
                    _preload_content=False,
                )
                async with exec_ws as ws:
                    with open(source, "rb") as f:
                        while block := await asyncio.to_thread(f.read, UPLOAD_CHUNK):
                            await ws.send_bytes(b"\x00" + block)
                    async for msg in ws:  # until the upload's shell ends and the server closes
                        data = msg.data if isinstance(msg.data, bytes) else str(msg.data or "").encode()
                        if len(data) > 1 and data[0] in (2, 3):  # stderr, the exec's status
                            errors += data[1:].decode(errors="replace")
        except ApiException as exc:
            raise _mapped(exc) from exc
        except _UNREACHABLE as exc:
            raise EngineUnavailable("the Kubernetes API server is not reachable") from exc
        if '"Success"' not in errors:
            raise EngineError(f"the hub's file did not reach tool pod {name}: {errors.strip()[-300:] or 'no answer'}")

    async def _wait_for_end(self, name: str, timeout: float) -> int | str | None:
        """The tool's exit code once its pod ended; why it cannot start (a str); or None after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        misses = 0
        while time.monotonic() < deadline:
            try:
                pod = await self._pod(name)
                misses = 0
            except EngineUnavailable:
                # one read that found no answer (a connection the API server closed) does not end
                # a tool that may run for an hour; an API server that stays away does
                misses += 1
                if misses >= TOOL_READ_TRIES:
                    raise
                await asyncio.sleep(RESTART_POLL * misses)
                continue
            for status in ((pod or {}).get("status") or {}).get("containerStatuses") or []:
                state = status.get("state") or {}
                ended = state.get("terminated")
                if ended is not None:
                    return int(ended.get("exitCode", -1))
                waiting = state.get("waiting") or {}
                if waiting.get("reason") in toolpod.CANNOT_START:
                    image = status.get("image") or ""
                    return f"the tool pod cannot start ({image}): {waiting['reason']}: {waiting.get('message', '')}"
            await asyncio.sleep(RESTART_POLL)
        return None

    async def _ensure_claim(self, volume: str, shared: bool = False) -> bool:
        from kubespawner.objects import make_pvc

        claim = make_pvc(
            name=claim_name(volume),
            storage_class=(self.shared_storage_class if shared else "") or self.storage_class or None,
            # labs on any node mount a shared one at once: the storage must offer ReadWriteMany
            access_modes=["ReadWriteMany"] if shared else ["ReadWriteOnce"],
            selector=None,
            storage=self.volume_size or "10Gi",
            labels={"app.kubernetes.io/managed-by": "stellars-jupyterhub-ds"},
            annotations={VOLUME_ANNOTATION: volume},
        )
        try:
            await self._call(lambda v1: v1.create_namespaced_persistent_volume_claim(self.namespace, claim))
            return True
        except RuntimeConflict:
            return False  # it exists

    async def ensure_shared_volume(self, name: str) -> bool:
        return await self._ensure_claim(name, shared=True)

    # -- admin feature: GPU detection --------------------------------------------------------
    async def probe_gpu(
        self,
        image: str,
        container_name: str,
        timeout: float = 30.0,
        runtime: str = "nvidia",
        command: tuple[str, ...] = ("nvidia-smi", "-L"),
    ) -> GpuProbe:
        # the cluster's device plugin already knows: no probe pod is needed
        try:
            nodes = await self._call(lambda v1: v1.list_node(), timeout)
        except EngineError as exc:
            return GpuProbe(False, f"engine unavailable: {exc}")
        found = {
            n.metadata.name: int(parse_quantity((n.status.allocatable or {}).get(GPU_RESOURCE, "0")))
            for n in nodes.items
        }
        total = sum(found.values())
        if not total:
            return GpuProbe(False, f"no node has allocatable {GPU_RESOURCE} ({len(found)} node(s) checked)")
        where = ", ".join(f"{n}: {c}" for n, c in found.items() if c)
        return GpuProbe(True, f"{total} allocatable {GPU_RESOURCE} ({where})")

    # -- activity monitor -------------------------------------------------------------------
    async def stats_source(self) -> str:
        """``metrics``: the cluster serves the resource metrics API (metrics.k8s.io, a metrics
        server), asked first; ``summary``: the kubelets' summary API through the API server's
        node proxy. Decided by API discovery, again every STATS_SOURCE_TTL seconds (a metrics
        server may be installed or removed while the hub runs)."""
        now = time.monotonic()
        if self._stats_source is None or now - self._stats_source[1] >= STATS_SOURCE_TTL:
            try:
                found = await self._raw_get(f"/apis/{METRICS_API}")
                served = any(r.get("name") == "pods" for r in found.get("resources") or [])
            except EngineError as exc:
                if not isinstance(exc.__cause__, ApiException):
                    raise  # the API server itself does not answer: no statistics either way
                served = False  # 404: no such API; 503: registered, but its server is down
            source = "metrics" if served else "summary"
            if self._stats_source is None or self._stats_source[0] != source:
                log.info("Lab statistics from the %s", STATS_SOURCES[source])
            self._stats_source = (source, now)
        return self._stats_source[0]

    async def container_stats(self, names: list[str]) -> dict[str, ContainerStats | None]:
        wanted = set(names)
        pods = await self._call(lambda v1: v1.list_namespaced_pod(self.namespace))
        by_node: dict[str, list] = {}
        for pod in pods.items:
            if pod.metadata.name in wanted and pod.status.phase == "Running" and pod.spec.node_name:
                by_node.setdefault(pod.spec.node_name, []).append(pod)
        result: dict[str, ContainerStats | None] = dict.fromkeys(names)
        if not by_node:
            return result
        if await self.stats_source() == "metrics":
            await self._stats_from_metrics(by_node, result)
        else:
            await asyncio.gather(*(self._stats_from_summary(n, p, result) for n, p in by_node.items()))
        return result

    async def _stats_from_metrics(self, by_node: dict[str, list], result: dict) -> None:
        """One list of the namespace's pod metrics (the metrics server's latest scrape); the
        memory of a lab without a limit is measured against its node's allocatable memory."""
        listing = await self._raw_get(f"/apis/{METRICS_API}/namespaces/{self.namespace}/pods")
        usage = {
            item["metadata"]["name"]: c.get("usage") or {}
            for item in listing.get("items") or []
            for c in item.get("containers") or []
            if c.get("name") == LAB_CONTAINER
        }
        nodes = await self._call(lambda v1: v1.list_node())
        node_bytes = {
            n.metadata.name: int(parse_quantity((n.status.allocatable or {}).get("memory", "0"))) for n in nodes.items
        }
        for node, node_pods in by_node.items():
            for pod in node_pods:
                used = usage.get(pod.metadata.name)
                if used is None:
                    continue  # started after the metrics server's last scrape
                cpu = parse_quantity(used.get("cpu", "0"))  # cores
                mem = parse_quantity(used.get("memory", "0"))  # working set
                limit = _memory_limit(pod) or node_bytes.get(node, 0)
                result[pod.metadata.name] = ContainerStats(round(cpu * 100, 2), int(mem), int(limit))

    async def _stats_from_summary(self, node: str, node_pods: list, result: dict) -> None:
        # one summary per node serves all its labs: the kubelet's own recent measurement
        summary = await self._raw_get(f"/api/v1/nodes/{node}/proxy/stats/summary")
        node_memory = (summary.get("node") or {}).get("memory") or {}
        host_bytes = (node_memory.get("availableBytes") or 0) + (node_memory.get("workingSetBytes") or 0)
        measured: dict[Any, dict] = {}
        for entry in summary.get("pods") or []:
            ref = entry.get("podRef") or {}
            if ref.get("namespace") != self.namespace:
                continue
            for ctr in entry.get("containers") or []:
                # after Restart Server the kubelet may still list the stopped container:
                # the newest start is the running one
                seen = measured.get(ref.get("name"))
                if ctr.get("name") == LAB_CONTAINER and (
                    seen is None or (ctr.get("startTime") or "") > (seen.get("startTime") or "")
                ):
                    measured[ref.get("name")] = ctr
        for pod in node_pods:
            ctr = measured.get(pod.metadata.name)
            if ctr is None:
                continue
            limit = _memory_limit(pod) or host_bytes
            cpu = (ctr.get("cpu") or {}).get("usageNanoCores") or 0
            mem = (ctr.get("memory") or {}).get("workingSetBytes") or 0
            result[pod.metadata.name] = ContainerStats(round(cpu / 1e7, 2), int(mem), int(limit))


def _mapped(exc: ApiException) -> EngineError:
    try:
        message = json.loads(exc.body).get("message") or exc.reason  # type: ignore[arg-type]
    except (TypeError, ValueError, AttributeError):
        message = exc.reason or str(exc)
    if exc.status == 404:
        return NotFound(message)
    if exc.status == 409:
        return RuntimeConflict(message)
    if exc.status in (0, 502, 503, 504):
        return EngineUnavailable(f"the Kubernetes API server is not available: {message}")
    return EngineError(f"the Kubernetes API server refused: {message} ({exc.status})")


def _lab_status(pod: dict) -> dict:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == LAB_CONTAINER:
            return status
    return {}


def _inspect_document(pod: dict) -> dict:
    """The pod in the shape the features read from Docker's inspect (Id, Name, State), plus
    the pod's own facts under "Pod"."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    lab = _lab_status(pod)
    running = (lab.get("state") or {}).get("running")
    alive = bool(running) and status.get("phase") == "Running" and not meta.get("deletionTimestamp")
    return {
        "Id": meta.get("uid"),
        "Name": "/" + meta.get("name", ""),
        "State": {
            "Running": alive,
            "StartedAt": (running or {}).get("startedAt"),
            "Status": "running" if alive else (status.get("phase") or "unknown").lower(),
        },
        "RestartCount": lab.get("restartCount", 0),
        "NetworkSettings": {},
        "Config": {"Labels": dict(meta.get("labels") or {})},  # the policy fingerprint among them
        "Pod": {
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "node": (pod.get("spec") or {}).get("nodeName"),
            "ip": status.get("podIP"),
            "phase": status.get("phase"),
            "restartCount": lab.get("restartCount", 0),
        },
    }


def _memory_limit(pod) -> int:
    for ctr in pod.spec.containers:
        if ctr.name == LAB_CONTAINER and ctr.resources and ctr.resources.limits:
            value = ctr.resources.limits.get("memory")
            if value:
                return int(parse_quantity(value))
    return 0


_SUFFIXES = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
    "m": 1e-3,
    "u": 1e-6,
    "n": 1e-9,
}


def parse_quantity(value) -> float:
    """A Kubernetes quantity ("512Mi", "2", "100m", "1e3") as a number."""
    match = re.fullmatch(r"([0-9.]+(?:[eE][-+]?[0-9]+)?)([a-zA-Z]*)", str(value).strip())
    if not match or match.group(2) not in _SUFFIXES:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    return float(match.group(1)) * _SUFFIXES[match.group(2)]
