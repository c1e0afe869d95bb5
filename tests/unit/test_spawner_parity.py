"""Both spawners carry one LabSpawnerMixin, and a member that exists on one backend only is a
decision written down here, with its reason: what a lab *is* cannot drift between backends."""

from __future__ import annotations

import inspect

from traitlets import HasTraits

from stellars_hub.backends.docker.spawner import StellarsSpawner
from stellars_hub.backends.kubernetes.spawner import StellarsKubeSpawner
from stellars_hub.lab.mixin import LabSpawnerMixin

# what only the engine needs, and why the other has no such thing
DOCKER_ONLY = {
    "lab_network_base": "labs on Docker bridge networks; Kubernetes has the cluster's network",
    "network_per_lab": "idem",
    "hub_alias": "idem",
    "hub_container": "the hub joins each lab's network when it runs in a container of the same engine",
    "engine_hub_container": "idem",
    "ensure_lab_network": "idem",
    "lab_network": "the lab's own bridge network, for the post-stop step (the mixin's answers '')",
    "owns_network": "idem",
    "starts_at_once": "the start queue: on Kubernetes the scheduler and the kubelets decide",
    "waiting_for_turn": "idem",
    "progress": "idem (the spawn page says a start waits for its turn)",
    "lab_host": "what the hub's Docker spawners share (queue, ports, engine clients)",
    "executor": "DockerSpawner's engine calls run on threads; KubeSpawner's client is async",
    "client": "idem",
    "create_object": "DockerSpawner's container creation, with the spec rendered as host config",
    "start_object": "a GPU request Docker cannot meet is explained",
    "get_ip_and_port": "host networking: the port the hub handed out",
    "host_network": "Docker: the lab network is 'host'; Kubernetes: a trait (single-node test clusters)",
    "poll": "a recreated hub container rejoins running labs' networks; an engine that does not answer",
}
KUBERNETES_ONLY = {
    "shared_access_modes": "claims have access modes; Docker volumes do not",
    "initialise_volumes": "Docker fills a fresh named volume from the image itself; claims need an init container",
    "memory_guarantee_fraction": "pods have requests besides limits",
    "cpu_guarantee_fraction": "idem",
    "site": "the configured pod traits a spec is rendered on top of",
    "claim_manifest": "claims are made by the spawner (Docker makes volumes on mount)",
    "ensure_claims": "idem",
    "get_pod_manifest": "KubeSpawner's pod, with the spec rendered as pod traits",
    "load_user_options": "KubeSpawner's own profile_list would claim the platform's profile option",
    "pod_traits": "idem",
    "get_network_ip": "a lab restarted in its pod keeps the pod's address",
    "container_name": "the pod's name stands for the container's",
    "container_id": "restart inspects a pod by name",
    "host_network": "see DOCKER_ONLY",
}


def own_members(cls) -> set[str]:
    return {name for name in vars(cls) if not name.startswith("_")}


def test_both_spawners_carry_the_mixin():
    assert issubclass(StellarsSpawner, LabSpawnerMixin) and issubclass(StellarsKubeSpawner, LabSpawnerMixin)
    # the mixin's members win over the engine spawners' (it comes first in the order)
    for cls in (StellarsSpawner, StellarsKubeSpawner):
        mro = cls.__mro__
        assert mro.index(LabSpawnerMixin) < min(
            i for i, c in enumerate(mro) if c.__name__ in ("DockerSpawner", "KubeSpawner")
        )


def test_a_member_on_one_backend_only_is_listed_with_its_reason():
    docker, kube = own_members(StellarsSpawner), own_members(StellarsKubeSpawner)
    assert docker - kube - set(DOCKER_ONLY) == set(), "on Docker only: list it in DOCKER_ONLY or move it to the mixin"
    assert kube - docker - set(KUBERNETES_ONLY) == set(), "on Kubernetes only: list it or move it to the mixin"
    # nothing listed that is gone (the lists stay true)
    assert set(DOCKER_ONLY) <= docker and set(KUBERNETES_ONLY) <= kube


def test_what_both_define_is_only_what_the_mixin_asks_each_backend_for():
    both = own_members(StellarsSpawner) & own_members(StellarsKubeSpawner)
    abstract = {"spec_environment"}  # the mixin's NotImplementedError: each engine hands variables its way
    engine_traits = {"host_network"}
    engine_start = {"start"}  # each begins with the mixin's spec() check, then its engine's start
    assert both - abstract - engine_traits - engine_start == set(), (
        f"the same member on both backends belongs in the mixin: {both}"
    )
    for name in abstract:
        assert inspect.getsource(getattr(LabSpawnerMixin, name)).count("NotImplementedError")


def test_the_mixins_traits_and_defaults_reach_both_spawners():
    mixin_traits = set(LabSpawnerMixin.class_own_traits())
    for cls in (StellarsSpawner, StellarsKubeSpawner):
        assert mixin_traits <= set(cls.class_traits())
        assert issubclass(cls, HasTraits)
    # defaults of JupyterHub's traits decided once, for both: the consent gate among them
    for trait in ("oauth_access_scopes", "notebook_dir", "default_url", "image", "start_timeout", "http_timeout"):
        for cls in (StellarsSpawner, StellarsKubeSpawner):
            handler = cls._all_trait_default_generators.get(trait)
            assert handler.func.__qualname__.startswith("LabSpawnerMixin."), (cls.__name__, trait)
