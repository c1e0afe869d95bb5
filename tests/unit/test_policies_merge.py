"""Policy validation and merge rules without an engine."""

from __future__ import annotations

import pytest

from stellars_hub.policies.merge import Defaults, merge
from stellars_hub.policies.model import PolicyError, validate

DEFAULTS = Defaults(memory_mb=8192, cpus=4, pids=4096, gpus="none")


def test_most_generous_limit_wins_and_zero_means_no_limit():
    eff = merge(DEFAULTS, {"a": {"memory_mb": 2048, "cpus": 8}, "b": {"memory_mb": 0, "cpus": 2}})
    assert eff.memory_mb == 0 and eff.sources["memory_mb"] == ["b"]
    assert eff.cpus == 8 and eff.sources["cpus"] == ["a"]
    assert eff.pids == 4096 and "pids" not in eff.sources  # nobody set it: the default


def test_a_group_may_give_less_than_the_default():
    assert merge(DEFAULTS, {"course": {"memory_mb": 1024}}).memory_mb == 1024


def test_gpus_all_beats_ids_beats_none_and_ids_are_united():
    assert merge(DEFAULTS, {"a": {"gpus": ["0"]}, "b": {"gpus": ["1", "0"]}}).gpus == ["0", "1"]
    assert merge(DEFAULTS, {"a": {"gpus": ["0"]}, "b": {"gpus": "all"}}).gpus == "all"
    assert merge(Defaults(1, 1, 1, "all"), {"a": {"gpus": "none"}}).gpus == "none"


def test_mounts_are_united_and_rw_wins_for_the_same_mount():
    m = {"source": "data", "target": "/mnt/data", "mode": "ro"}
    eff = merge(
        DEFAULTS,
        {
            "a": {"mounts": [m]},
            "b": {"mounts": [{**m, "mode": "rw"}]},
            "c": {"mounts": [{"source": "x", "target": "/mnt/x", "mode": "ro"}]},
        },
    )
    assert [(x["target"], x["mode"]) for x in eff.mounts] == [("/mnt/data", "rw"), ("/mnt/x", "ro")]


def test_group_variables_win_over_the_users_own():
    eff = merge(DEFAULTS, {"a": {"env": {"X": "group"}}}, {"X": "mine", "Y": "mine"})
    assert eff.env == {"X": "group"} and eff.user_env == {"Y": "mine"}


@pytest.mark.parametrize(
    "body,field",
    [
        ({"env": {"JUPYTERHUB_X": "1"}}, "env.JUPYTERHUB_X"),
        ({"mounts": [{"source": "/srv/data/../etc", "target": "/mnt/x"}]}, "mounts[0].source"),
        (
            {"mounts": [{"source": "/srv/data/x", "target": "/mnt/x"}, {"source": "v", "target": "/mnt/x"}]},
            "mounts[1].target",
        ),
        ({"mounts": [{"source": "jupyterlab-bob_home", "target": "/mnt/bob"}]}, "mounts[0].source"),
        ({"pids": 1.5}, "pids"),
    ],
)
def test_validation_names_the_field(body, field):
    with pytest.raises(PolicyError) as err:
        validate(body, host_paths=["/srv/data"])
    assert err.value.field == field


def test_host_paths_under_the_allow_list_pass():
    assert (
        validate(
            {"mounts": [{"source": "/srv/data/set1", "target": "/mnt/set1", "mode": "rw"}]}, host_paths=["/srv/data"]
        )["mounts"][0]["mode"]
        == "rw"
    )


def test_subdomain_host_and_cpu_settings_parse_or_name_the_variable():
    from stellars_hub import settings
    from stellars_hub.features import configurables
    from stellars_hub.hubsettings import StellarsHub
    from stellars_hub.lab.config import Labs

    def load(env):
        return settings.load(configurables(), env)

    assert load({"JUPYTERHUB_SUBDOMAIN_HOST": "off"})(StellarsHub).subdomain_host == ""
    assert (
        load({"JUPYTERHUB_SUBDOMAIN_HOST": "https://hub.example.org/"})(StellarsHub).subdomain_host
        == "https://hub.example.org"
    )
    assert load({"JUPYTERHUB_LAB_CPU_LIMIT": "1.5"})(Labs).cpu_limit == 1.5
    for name, bad in (
        ("JUPYTERHUB_SUBDOMAIN_HOST", "https://x.org/path"),
        ("JUPYTERHUB_LAB_CPU_LIMIT", "lots"),
        ("JUPYTERHUB_LAB_CPU_LIMIT", "2000"),
    ):
        with pytest.raises(settings.ConfigError) as err:
            load({name: bad})
        assert err.value.problems[0].startswith(name)
