"""StellarsKubeSpawner: KubeSpawner carrying the platform's lab (``LabSpawnerMixin``).

One pod per server (the Docker backend's container name), one claim per volume of the lab's
spec (the user's own, per server, and the shared one), and ``restartPolicy: Always`` so that
Restart Server can have the kubelet restart the lab container inside the same pod.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyterhub.utils import random_port
from kubernetes_asyncio.client.rest import ApiException
from kubespawner import KubeSpawner
from kubespawner.objects import make_pvc
from traitlets import Bool, Float, List, TraitError, Unicode, default, validate

from ... import naming
from ...lab.mixin import LabSpawnerMixin
from ...lab.spec import PROJECT, SHARED, LabSpec
from ...platform import Platform
from ...runtime.base import HUB_LABEL
from . import VOLUME_ANNOTATION, podspec, scheduling


class StellarsKubeSpawner(LabSpawnerMixin, KubeSpawner):
    shared_access_modes = List(
        Unicode(),
        ["ReadWriteMany"],
        config=True,
        help="Access modes of the shared claim when the spawner creates it (labs on several nodes need ReadWriteMany)",
    )
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

    @validate("shared_access_modes")
    def _check_access_modes(self, proposal):
        allowed = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
        if not proposal.value or any(m not in allowed for m in proposal.value):
            raise TraitError(f"shared_access_modes: {proposal.value!r}; each must be one of {', '.join(allowed)}")
        return proposal.value

    @validate("memory_guarantee_fraction", "cpu_guarantee_fraction")
    def _check_fraction(self, proposal):
        if not 0 < proposal.value <= 1:
            raise TraitError(f"{proposal.trait.name} must be above 0 and at most 1, not {proposal.value}")
        return proposal.value

    # naming.escape_name and KubeSpawner's legacy escape_slug are the same escaping, so the pod of
    # a server is named as its container would be on Docker
    @default("pod_name_template")
    def _pod_name_template_default(self):
        return naming.CONTAINER_PREFIX + "{user_server}"

    @default("slug_scheme")
    def _slug_scheme_default(self):
        return "escape"

    @default("storage_pvc_ensure")
    def _storage_pvc_ensure_default(self):
        return False  # the claims are the lab spec's (several per server)

    @default("cmd")
    def _cmd_default(self):
        # KubeSpawner drops the spawner's arguments when the image's CMD is used; the lab needs
        # them (the platform's --HubOAuth.cache_max_age), as Zero to JupyterHub's default does
        return ["jupyterhub-singleuser"]

    @default("delete_grace_period")
    def _delete_grace_period_default(self):
        return 10

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

    def spec_environment(self, spec: LabSpec) -> dict[str, str]:
        return podspec.environment(spec)

    @property
    def site(self) -> podspec.PodSite:
        """What the site configured, which every start's spec is rendered on top of."""
        context = self.container_security_context
        return podspec.PodSite(
            mem_limit=self.mem_limit,
            mem_guarantee=self.mem_guarantee,
            cpu_limit=self.cpu_limit,
            cpu_guarantee=self.cpu_guarantee,
            extra_limits=dict(self.extra_resource_limits),
            memory_fraction=self.memory_guarantee_fraction,
            cpu_fraction=self.cpu_guarantee_fraction,
            # a site's own callable decides the security context
            security_context=None if callable(context) else dict(context or {}),
            image=self.image,
            image_pull_policy=self.image_pull_policy,
            initialise_volumes=self.initialise_volumes,
        )

    # -- claims ---------------------------------------------------------------------------
    def claim_manifest(self, volume: podspec.PodVolume, source: str, shared: bool):
        """KubeSpawner's claim object, annotated with the volume's platform name."""
        return make_pvc(
            name=volume.claim,
            storage_class=self.storage_class or None,
            access_modes=list(self.shared_access_modes) if shared else ["ReadWriteOnce"],
            selector=None,
            storage=self.storage_capacity or "10Gi",
            labels={"app.kubernetes.io/managed-by": "stellars-jupyterhub-ds", "component": "lab-volume"},
            annotations={VOLUME_ANNOTATION: source},
        )

    async def ensure_claims(self, spec: LabSpec) -> None:
        """Create whichever of the lab's own claims (and the shared one) does not exist yet; a
        policy's claim must exist already: without it the pod would wait for it until the start
        times out, saying little."""
        for mount, volume in zip(spec.mounts, podspec.pod_volumes(spec), strict=True):
            if volume.claim is None:
                continue
            if not volume.made_here:
                await self._check_policy_claim(volume, mount.role == PROJECT)
                continue
            try:
                await self.api.create_namespaced_persistent_volume_claim(
                    self.namespace, self.claim_manifest(volume, mount.source, mount.role == SHARED)
                )
                self.log.info("Created claim %s/%s for %s", self.namespace, volume.claim, self.user.name)
            except ApiException as exc:
                if exc.status != 409:  # 409: it exists (kept from an earlier start)
                    raise

    async def _check_policy_claim(self, volume: podspec.PodVolume, project: bool = False) -> None:
        try:
            await self.api.read_namespaced_persistent_volume_claim(volume.claim, self.namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            if project:  # the hub makes it before the start; gone since (deleted by hand)
                raise RuntimeError(
                    f"the project folder at {volume.mount['mountPath']} (claim {volume.claim}) is missing in "
                    f"namespace {self.namespace}; start again (the hub makes it anew, empty) or ask your administrator"
                ) from None
            raise RuntimeError(
                f"a group policy of {self.user.name} mounts the volume {volume.claim} at "
                f"{volume.mount['mountPath']}, but namespace {self.namespace} has no claim {volume.claim}; "
                "create it (ReadOnlyMany or ReadWriteMany storage when several labs share it) or change the policy"
            ) from None

    # -- start ----------------------------------------------------------------------------
    async def start(self):
        spec = self.spec()
        if spec.engine_socket:
            raise RuntimeError(
                f"a group of {self.user.name} (docker-sock, or a policy with docker_sock) mounts the Docker "
                "engine's socket; labs on Kubernetes have no Docker engine to give. Remove the user from that "
                "group (admin panel, Groups) to start the lab."
            )
        try:
            podspec.pod_volumes(spec)
        except ValueError as exc:
            raise RuntimeError(str(exc)) from None
        if self.host_network:
            # every lab shares the node's ports: a free one per start, loopback only
            self.ip = "127.0.0.1"
            self.port = random_port()
        await self.ensure_claims(spec)
        return await scheduling.start_or_explain(self, super().start())  # an unplaceable lab says so at once

    async def load_user_options(self):
        """KubeSpawner would read ``user_options["profile"]`` against its own ``profile_list``;
        the platform's profiles (group policies) are in this start's spec already, image and
        limits included, so KubeSpawner's are not used (a site's ``profile_list`` is ignored)."""
        if self.profile_list:
            self.log.warning("c.KubeSpawner.profile_list is ignored: profiles are offered by group policies")

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
        """This start's spec rendered on top of what the site configured."""
        rendered = podspec.render(self.spec(), self.site)
        pod_config: dict[str, Any] = {"restartPolicy": "Always"}  # the kubelet restarts the lab in place
        if self.host_network:
            pod_config.update(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet")
        return {
            **rendered,
            "volumes": _listed(self.volumes) + rendered["volumes"],
            "volume_mounts": _listed(self.volume_mounts) + rendered["volume_mounts"],
            "init_containers": _listed(self.init_containers) + rendered["init_containers"],
            "extra_pod_config": {**self.extra_pod_config, **pod_config},
            "extra_labels": {**self.extra_labels, **rendered["extra_labels"], HUB_LABEL: Platform.current().hub_id},
        }


def _listed(configured) -> list:
    """A KubeSpawner list-or-dict trait as a list (a dict's values in key order, as KubeSpawner)."""
    if isinstance(configured, dict):
        return [configured[k] for k in sorted(configured)]
    return list(configured or [])
