"""The compose topology of per-lab networks, on the real engine without a whole stack: the
spawner creates a lab's network, joins the hub's container to it under the hub's name, does it
again without harm (a recreated hub re-joins running labs' networks), and after the stop (the
platform's post-stop step, the runtime's ``remove_leftovers``) disconnects the hub and removes
the network, but only once no lab is on it. A stand-in container plays the hub."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import docker
import pytest
from harness import LAB_IMAGE, RUN_PREFIX, engine

from stellars_hub.backends.docker.runtime import DockerRuntime
from stellars_hub.backends.docker.spawner import StellarsSpawner
from stellars_hub.lab.spec import SPEC_LABEL


@pytest.fixture
def fake_hub(docker_engine):
    own = engine().networks.create(f"{RUN_PREFIX}hubnet", driver="bridge")  # like compose's default network
    c = engine().containers.run(
        LAB_IMAGE, ["sleep", "300"], name=f"jupyterlab-{RUN_PREFIX}fakehub", detach=True, network=own.name
    )
    yield c
    c.remove(force=True)
    own.remove()


def test_lab_network_is_made_joined_and_removed(fake_hub):
    user = SimpleNamespace(name=f"{RUN_PREFIX}joiner", id=1, url="/", escaped_name=None)
    spawner = StellarsSpawner(
        user=user,
        lab_network_base=f"{RUN_PREFIX}net",
        network_per_lab=True,
        hub_container=fake_hub.name,
        hub_alias="jupyterhub",
    )
    network = spawner.network_name
    assert network == f"{RUN_PREFIX}net-{RUN_PREFIX}joiner" and spawner.owns_network

    async def run():
        await spawner.ensure_lab_network()
        await spawner.ensure_lab_network()  # idempotent: already there, already joined

    try:
        asyncio.run(run())
        info = engine().api.inspect_network(network)
        assert info["Labels"]["stellars.lab-network"] == user.name
        fake_hub.reload()
        joined = fake_hub.attrs["NetworkSettings"]["Networks"][network]
        assert "jupyterhub" in joined["Aliases"]
        # a lab on that network finds the hub by its name
        out = engine().containers.run(
            LAB_IMAGE,
            ["getent", "hosts", "jupyterhub"],
            network=network,
            remove=True,
            name=f"jupyterlab-{RUN_PREFIX}resolver",
        )
        assert out.decode().split()[0] == joined["IPAddress"]

        # another lab of the user (a named server) still on it: the network stays
        other = engine().containers.run(
            LAB_IMAGE,
            ["sleep", "300"],
            network=network,
            detach=True,
            name=f"jupyterlab-{RUN_PREFIX}joiner--other",
            labels={SPEC_LABEL: "x"},
        )
        gone = f"jupyterlab-{RUN_PREFIX}joiner"  # the stopped lab's container, removed already
        try:
            assert asyncio.run(DockerRuntime().remove_leftovers(gone, network)) == []
            fake_hub.reload()
            assert network in fake_hub.attrs["NetworkSettings"]["Networks"]
        finally:
            other.remove(force=True)
        assert asyncio.run(DockerRuntime().remove_leftovers(gone, network)) == [network]
        fake_hub.reload()
        assert network not in fake_hub.attrs["NetworkSettings"]["Networks"]
        with pytest.raises(docker.errors.NotFound):
            engine().networks.get(network)
    finally:
        try:
            engine().networks.get(network).remove()
        except docker.errors.APIError:
            pass
