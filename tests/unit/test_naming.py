import random
import string

import pytest
from dockerspawner import DockerSpawner

from stellars_hub import naming
from stellars_hub.backends.docker.spawner import StellarsSpawner
from stellars_hub.backends.kubernetes.spawner import StellarsKubeSpawner
from stellars_hub.lab.mixin import configured_volume_specs

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


def test_configured_volume_specs_read_the_spawner_sections_without_a_spawner():
    from traitlets.config import Application, Config

    assert StellarsSpawner.configured_volume_specs(Config()) == naming.USER_VOLUMES
    assert configured_volume_specs(Config(), DockerSpawner) == naming.USER_VOLUMES  # not a platform lab

    class SiteSpawner(StellarsSpawner):
        pass

    c = Config()
    c.StellarsSpawner.image = "some/lab:1"  # a spawner built from this config would need a user
    c.StellarsSpawner.user_volumes = [{"key": "home", "mount": "/home"}]
    c.SiteSpawner.user_volumes = [{"key": "data", "mount": "/data", "description": "datasets"}]
    assert [v.key for v in configured_volume_specs(c, StellarsSpawner)] == ["home"]
    assert configured_volume_specs(c, SiteSpawner) == (naming.UserVolume("data", "/data", "datasets"),)
    # the Kubernetes spawner's own section counts the same way (it carries the same mixin)
    c.StellarsKubeSpawner.user_volumes = [{"key": "scratch", "mount": "/scratch"}]
    assert [v.key for v in configured_volume_specs(c, StellarsKubeSpawner)] == ["scratch"]

    app = Application()  # the command line, one argument per volume
    app.parse_command_line(['--StellarsSpawner.user_volumes={"key": "home", "mount": "/home"}',
                            '--StellarsSpawner.user_volumes={"key": "extra", "mount": "/mnt/extra"}'])
    assert [v.key for v in configured_volume_specs(app.config, StellarsSpawner)] == ["home", "extra"]

    c.StellarsSpawner.user_volumes = [{"key": "Bad Key", "mount": "/x"}]
    with pytest.raises(Exception, match="unique lower-case key"):
        configured_volume_specs(c, StellarsSpawner)
