"""StellarsKubeSpawner: KubeSpawner with the platform's names, claims and lab environment.

One pod ``jupyterlab-<escaped name>`` per user (the Docker backend's container name), one claim
per configured per-user volume (``jupyterlab-<escaped name>-<key>``) plus the shared claim, and
``restartPolicy: Always`` so that Restart Server can have the kubelet restart the lab container
inside the same pod.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from jupyterhub.utils import random_port
from kubernetes_asyncio.client.rest import ApiException
from kubespawner import KubeSpawner
from traitlets import Bool, Dict, Float, List, TraitError, Unicode, default, validate

from .. import naming
from ..admin.groups import DOCKER_SOCK, ENGINE_SOCKET
from . import VOLUME_ANNOTATION, claim_name, podspec, scheduling

INIT_CONTAINER = "volume-init"


class StellarsKubeSpawner(KubeSpawner):
    shared_volume = Unicode(
        naming.SHARED_VOLUME,
        config=True,
        help="Volume mounted for everybody at /mnt/shared (its claim: the name with - for _)",
    )
    shared_access_modes = List(
        Unicode(),
        ["ReadWriteMany"],
        config=True,
        help="Access modes of the shared claim when the spawner creates it (labs on several nodes need ReadWriteMany)",
    )
    lab_environment = Dict(config=True, help="Extra environment for every lab (service switches, MLflow, ...)")
    gpu_enabled = Bool(False, config=True, help="Request one nvidia.com/gpu and set the GPU flags in the lab")
    host_network = Bool(
        False,
        config=True,
        help="Pods on the node's network, each lab on its own loopback port (single-node test clusters)",
    )
    initialise_volumes = Bool(
        True,
        config=True,
        help="""Before the lab starts, an init container
        (the lab image, as root) gives every empty claim what Docker gives a fresh named volume:
        the image's content at the mount point, with its owner and mode. Storage that hands out
        empty root-owned directories needs this for the lab's non-root user; turn it off where
        pods may not run as root and the storage honours fsGroup.""",
    )
    user_volumes = List(
        Dict(),
        config=True,
        help="""Per-user volumes: [{"key": "home", "mount": "/home",
        "description": "..."}]; each becomes the claim jupyterlab-{name}-{key}.""",
    )

    @default("user_volumes")
    def _user_volumes_default(self):
        return naming.default_user_volumes()

    @validate("user_volumes")
    def _check_user_volumes(self, proposal):
        try:
            return naming.check_user_volumes(proposal.value)
        except ValueError as exc:
            raise TraitError(str(exc)) from None

    @validate("shared_access_modes")
    def _check_access_modes(self, proposal):
        allowed = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
        if not proposal.value or any(m not in allowed for m in proposal.value):
            raise TraitError(f"shared_access_modes: {proposal.value!r}; each must be one of {', '.join(allowed)}")
        return proposal.value

    @property
    def volume_specs(self) -> tuple[naming.UserVolume, ...]:
        return tuple(naming.UserVolume(v["key"], v["mount"], v.get("description", "")) for v in self.user_volumes)

    # naming.escape_name and KubeSpawner's legacy escape_slug are the same escaping
    @default("pod_name_template")
    def _pod_name_template_default(self):
        return naming.CONTAINER_PREFIX + "{escaped_username}"

    @default("slug_scheme")
    def _slug_scheme_default(self):
        return "escape"

    @default("storage_pvc_ensure")
    def _storage_pvc_ensure_default(self):
        return False  # the claims are this class's own (several per user)

    @default("notebook_dir")
    def _notebook_dir_default(self):
        return naming.NOTEBOOK_DIR

    @default("cmd")
    def _cmd_default(self):
        # KubeSpawner drops the spawner's arguments when the image's CMD is used; the lab needs
        # them (the platform's --HubOAuth.cache_max_age), as Zero to JupyterHub's default does
        return ["jupyterhub-singleuser"]

    @default("delete_grace_period")
    def _delete_grace_period_default(self):
        return 10

    memory_guarantee_fraction = Float(
        0.5,
        config=True,
        help="""The lab's memory request as a part of its memory limit (group policy or
        JUPYTERHUB_LAB_MEMORY_LIMIT) when mem_guarantee is not set; memory cannot be taken back
        from a lab, so more of it is reserved than of CPU""",
    )
    cpu_guarantee_fraction = Float(
        0.1,
        config=True,
        help="The lab's CPU request as a part of its CPU limit when cpu_guarantee is not set (labs idle mostly)",
    )

    @validate("memory_guarantee_fraction", "cpu_guarantee_fraction")
    def _check_fraction(self, proposal):
        if not 0 < proposal.value <= 1:
            raise TraitError(f"{proposal.trait.name} must be above 0 and at most 1, not {proposal.value}")
        return proposal.value

    # the same spawner-side attributes restart and the policies feature use on the Docker backend,
    # set afresh before every start (policies.hub.Policies.pre_spawn)
    restarting_in_place = False
    start_binds: dict = {}
    start_host_config: dict = {}
    start_env: dict = {}
    start_labels: dict = {}  # the policy fingerprint: Restart Server recreates a pod whose policy changed

    if TYPE_CHECKING:  # KubeSpawner's traits
        extra_pod_config: dict[str, Any]
        extra_resource_limits: dict[str, Any]
        extra_labels: dict[str, Any]
        container_security_context: Any
        volumes: Any
        volume_mounts: Any
        init_containers: Any

    @property
    def container_name(self) -> str:
        return self.pod_name

    container_id = None  # restart inspects by name; the runtime answers with the pod uid

    def get_network_ip(self, _network_settings) -> str:
        return self.server.ip  # a container restarted inside its pod keeps the pod's address

    async def poll(self):
        if self.restarting_in_place:
            return None  # stopped for a moment on purpose, not dead
        return await super().poll()

    def get_env(self):
        env = super().get_env()
        env.update({k: str(v) for k, v in self.lab_environment.items()})
        env.update(self.start_env)  # this start's policy: limits, group and user variables
        return podspec.lab_env(env, self.gpu_count)

    # -- claims ---------------------------------------------------------------------------
    def claims(self) -> dict[str, tuple[str, str]]:
        """volume key -> (claim name, mount path), the shared claim under the key ``shared``."""
        found = {v.key: (claim_name(naming.volume_name(self.user.name, v.key)), v.mount) for v in self.volume_specs}
        found["shared"] = (claim_name(self.shared_volume), naming.SHARED_MOUNT)
        return found

    def claim_manifest(self, name: str, access_modes: list[str], volume: str = "") -> dict:
        spec = {"accessModes": access_modes, "resources": {"requests": {"storage": self.storage_capacity or "10Gi"}}}
        if self.storage_class:
            spec["storageClassName"] = self.storage_class
        labels = {"app.kubernetes.io/managed-by": "stellars-jupyterhub-ds", "component": "lab-volume"}
        metadata: dict[str, Any] = {"name": name, "labels": labels}
        if volume:
            metadata["annotations"] = {VOLUME_ANNOTATION: volume}
        return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}

    def volume_names(self) -> dict[str, str]:
        """volume key -> the volume's platform name (Docker's), the shared volume under ``shared``."""
        found = {v.key: naming.volume_name(self.user.name, v.key) for v in self.volume_specs}
        found["shared"] = self.shared_volume
        return found

    async def ensure_claims(self) -> None:
        """Create whichever of the user's claims (and the shared one) does not exist yet."""
        volumes = self.volume_names()
        for key, (name, _mount) in self.claims().items():
            modes = list(self.shared_access_modes) if key == "shared" else ["ReadWriteOnce"]
            try:
                await self.api.create_namespaced_persistent_volume_claim(
                    self.namespace, self.claim_manifest(name, modes, volumes[key])
                )
                self.log.info("Created claim %s/%s for %s", self.namespace, name, self.user.name)
            except ApiException as exc:
                if exc.status != 409:  # 409: it exists (kept from an earlier start)
                    raise

    def _volume_init_container(self) -> dict:
        """Copy the image's content at each mount point into a claim that is still empty, and
        give the claim's root the owner and mode of that mount point in the image."""
        lines = []
        for key, (_claim, mount) in self.claims().items():
            target = f"/stellars-init/{key}"
            lines.append(
                # empty, or holding only a new file system's lost+found
                f'if [ -d {shlex.quote(mount)} ] && [ -z "$(ls -A {target} | grep -vx lost+found)" ]; then '
                f"cp -a {shlex.quote(mount)}/. {target}/ && chown --reference={shlex.quote(mount)} {target} "
                f"&& chmod --reference={shlex.quote(mount)} {target}; fi"
            )
        return {
            "name": INIT_CONTAINER,
            "image": self.image,
            "imagePullPolicy": self.image_pull_policy,
            "command": ["sh", "-c", "set -e\n" + "\n".join(lines)],
            "securityContext": {"runAsUser": 0},
            "volumeMounts": [{"name": f"v-{key}", "mountPath": f"/stellars-init/{key}"} for key in self.claims()],
        }

    # -- start ----------------------------------------------------------------------------
    async def start(self):
        if ENGINE_SOCKET in self.start_binds:
            raise RuntimeError(
                f"{self.user.name} is in the {DOCKER_SOCK} group, which mounts the Docker engine's socket; "
                "labs on Kubernetes have no Docker engine to give. Remove the user from that group "
                "(admin panel, Groups) to start the lab."
            )
        if self.host_network:
            # every lab shares the node's ports: a free one per start, loopback only
            self.ip = "127.0.0.1"
            self.port = random_port()
        await self.ensure_claims()
        await self.check_policy_claims()
        return await scheduling.start_or_explain(self, super().start())  # an unplaceable lab says so at once

    async def check_policy_claims(self) -> None:
        """A policy's named volume must be a claim the operator made in the namespace: without
        it the pod would wait for it until the start times out, saying little."""
        try:
            mounts = podspec.policy_mounts(self.start_binds)
        except ValueError as exc:
            raise RuntimeError(str(exc)) from None
        for m in mounts:
            if m.claim is None:
                continue
            try:
                await self.api.read_namespaced_persistent_volume_claim(m.claim, self.namespace)
            except ApiException as exc:
                if exc.status != 404:
                    raise
                raise RuntimeError(
                    f"a group policy of {self.user.name} mounts the volume {m.claim} at {m.mount['mountPath']}, "
                    f"but namespace {self.namespace} has no claim {m.claim}; create it (ReadOnlyMany or "
                    "ReadWriteMany storage when several labs share it) or change the policy"
                ) from None

    @property
    def gpu_count(self) -> int:
        return podspec.gpu_count(self.start_host_config, self.gpu_enabled)

    async def get_pod_manifest(self):
        """KubeSpawner's pod, built from this start's values of the traits in ``pod_traits``;
        the configured values are back in place afterwards, so the next start begins from them."""
        wanted = self.pod_traits()
        configured = {name: getattr(self, name) for name in wanted}
        try:
            for name, value in wanted.items():
                setattr(self, name, value)
            return await super().get_pod_manifest()
        finally:
            for name, value in configured.items():
                setattr(self, name, value)

    def pod_traits(self) -> dict[str, Any]:
        """This start's volumes, init container, pod options, resources, privileges and the
        policy fingerprint label, on top of what the site configured."""
        claims = self.claims()
        mounts = podspec.policy_mounts(self.start_binds)
        volumes = [
            {"name": f"v-{key}", "persistentVolumeClaim": {"claimName": name}} for key, (name, _m) in claims.items()
        ]
        volume_mounts = [{"name": f"v-{key}", "mountPath": mount} for key, (_n, mount) in claims.items()]
        pod_config: dict[str, Any] = {"restartPolicy": "Always"}  # the kubelet restarts the lab in place
        if self.host_network:
            pod_config.update(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet")
        res = podspec.resources(
            self.start_host_config,
            podspec.Resources(
                self.mem_limit, self.mem_guarantee, self.cpu_limit, self.cpu_guarantee, dict(self.extra_resource_limits)
            ),
            gpus=self.gpu_count,
            memory_fraction=self.memory_guarantee_fraction,
            cpu_fraction=self.cpu_guarantee_fraction,
        )
        traits: dict[str, Any] = {
            "volumes": _listed(self.volumes) + volumes + [m.volume for m in mounts],
            "volume_mounts": _listed(self.volume_mounts) + volume_mounts + [m.mount for m in mounts],
            "init_containers": _listed(self.init_containers)
            + ([self._volume_init_container()] if self.initialise_volumes else []),
            "extra_pod_config": {**self.extra_pod_config, **pod_config},
            "mem_limit": res.mem_limit,
            "mem_guarantee": res.mem_guarantee,
            "cpu_limit": res.cpu_limit,
            "cpu_guarantee": res.cpu_guarantee,
            "extra_resource_limits": res.extra_limits,
            "extra_labels": {**self.extra_labels, **self.start_labels},
        }
        # a site's own callable decides the security context; else the policy's privileges
        if not callable(self.container_security_context):
            traits["container_security_context"] = podspec.security_context(
                dict(self.container_security_context or {}), bool(self.start_host_config.get("privileged"))
            )
        return traits


def _listed(configured) -> list:
    """A KubeSpawner list-or-dict trait as a list (a dict's values in key order, as KubeSpawner)."""
    if isinstance(configured, dict):
        return [configured[k] for k in sorted(configured)]
    return list(configured or [])
