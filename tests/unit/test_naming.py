import random
import string

import pytest
from dockerspawner import DockerSpawner

from stellars_hub import naming
from stellars_hub.spawner import StellarsSpawner

TRICKY = ["first.last", "Ann@Lab", "ann@lab", "a-b", "a_b", "ü", "Zoë", "x--y", "-", "user name", "a/b", "日本"]


@pytest.mark.parametrize("name", TRICKY)
def test_escaping_matches_dockerspawner(name):
    assert naming.escape_name(name) == DockerSpawner._escape(name)
    assert naming.escape_name(name) == StellarsSpawner().escape(name)


def test_known_examples():
    assert naming.container_name("first.last") == "jupyterlab-first-2elast"
    assert naming.volume_name("first.last", "home") == "jupyterlab-first-2elast_home"
    assert naming.user_volume_names("bob") == {
        "home": "jupyterlab-bob_home", "workspace": "jupyterlab-bob_workspace", "cache": "jupyterlab-bob_cache"}


def test_no_two_names_collide():
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "-_.@ü+ "
    names = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(20000)}
    names |= set(TRICKY)
    escaped = {naming.escape_name(n) for n in names}
    assert len(escaped) == len(names)


def test_escaped_names_are_docker_safe():
    for name in TRICKY:
        assert set(naming.escape_name(name)) <= set(string.ascii_lowercase + string.digits + "-")


def test_shared_volume_is_not_a_user_volume():
    assert naming.SHARED_VOLUME not in naming.user_volume_names("jupyterhub").values()
    assert all(v.key != "shared" for v in naming.USER_VOLUMES)


def test_spawner_volume_list_is_configurable_in_one_place():
    from traitlets.config import Config

    c = Config()
    c.StellarsSpawner.user_volumes = [{"key": "data", "mount": "/data", "description": "datasets"}]
    spawner = StellarsSpawner(config=c)
    assert [v.key for v in spawner.volume_specs] == ["data"]
    with pytest.raises(Exception, match="unique lower-case key"):
        StellarsSpawner(config=c).user_volumes = [{"key": "Bad Key", "mount": "/x"}]
