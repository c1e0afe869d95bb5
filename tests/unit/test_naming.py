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
        "home": "jupyterlab-bob_home",
        "workspace": "jupyterlab-bob_workspace",
        "cache": "jupyterlab-bob_cache",
    }


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
    app.parse_command_line(
        [
            '--StellarsSpawner.user_volumes={"key": "home", "mount": "/home"}',
            '--StellarsSpawner.user_volumes={"key": "extra", "mount": "/mnt/extra"}',
        ]
    )
    assert [v.key for v in configured_volume_specs(app.config, StellarsSpawner)] == ["home", "extra"]

    c.StellarsSpawner.user_volumes = [{"key": "Bad Key", "mount": "/x"}]
    with pytest.raises(Exception, match="unique lower-case key"):
        configured_volume_specs(c, StellarsSpawner)


def test_the_hubs_volume_names_follow_its_records_and_nothing_else_guesses():
    """The hub names volumes through its one VolumeNames (which the accounts feature points at
    the records of renamed and deleted users); naming's own functions, for users whose volumes
    carry their own name, are for tools and tests only: no module of the hub calls them."""
    import pathlib

    import stellars_hub

    names = naming.VolumeNames(lookup={"anna": "ann"}.get)  # anna was renamed from ann
    assert names.volume_name("anna", "home") == "jupyterlab-ann_home"
    assert names.server_volume_names("anna", "gpu", shared_home=True) == {
        "home": "jupyterlab-ann_home",
        "workspace": "jupyterlab-ann--gpu_workspace",
        "cache": "jupyterlab-ann--gpu_cache",
    }
    assert names.user_volume_names("bob") == naming.user_volume_names("bob")

    root = pathlib.Path(stellars_hub.__file__).parent
    guessing = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "naming.py"
        for call in ("naming.volume_name(", "naming.user_volume_names(", "naming.server_volume_names(")
        if call in p.read_text()
    ]
    assert guessing == []
