"""A lab per need and group project folders, as pure logic: profiles validated within their
group's bounds, offered across groups, chosen (or refused) from a start's user_options; which
project folders a user's lab mounts and how; the volume names."""

from __future__ import annotations

import pytest

from stellars_hub.errors import BadRequest
from stellars_hub.policies import merge, model, profiles, projects
from stellars_hub.policies.store import check_conflicts

DEFAULTS = merge.Defaults(memory_mb=8192, cpus=4.0, pids=4096, gpus="none")
STD = {"name": "std", "image": "stellars-lab:dev"}
BIG = {"name": "big", "image": "registry.example.org/lab:2026.1", "memory_mb": 16384, "cpus": 8, "gpus": "all"}


def validate(body):
    policy = model.validate(body, host_paths=[])
    if body.get("profiles"):
        policy["profiles"] = profiles.validate_profiles(body["profiles"], policy, DEFAULTS)
    return policy


def refused(body) -> str:
    with pytest.raises(model.PolicyError) as exc:
        validate(body)
    return exc.value.field


def test_profiles_stay_within_the_groups_own_bounds_else_the_sites():
    policy = validate({"memory_mb": 16384, "cpus": 8, "gpus": "all", "profiles": [STD, BIG]})
    assert policy["profiles"] == [STD, {**BIG, "cpus": 8.0}]
    # without the group's own limits, the site's defaults bound a profile
    assert refused({"profiles": [{**STD, "memory_mb": 9000}]}) == "profiles[0].memory_mb"
    assert refused({"profiles": [{**STD, "cpus": 5}]}) == "profiles[0].cpus"
    assert refused({"memory_mb": 2048, "profiles": [{**STD, "memory_mb": 0}]}) == "profiles[0].memory_mb"  # unlimited
    assert validate({"memory_mb": 0, "profiles": [{**STD, "memory_mb": 0}]})["profiles"][0]["memory_mb"] == 0
    # GPUs only as far as the group's own
    assert refused({"profiles": [{**STD, "gpus": "all"}]}) == "profiles[0].gpus"
    assert refused({"gpus": ["0", "1"], "profiles": [{**STD, "gpus": ["2"]}]}) == "profiles[0].gpus"
    assert validate({"gpus": ["0", "1"], "profiles": [{**STD, "gpus": ["1"]}]})["profiles"][0]["gpus"] == ["1"]
    assert validate({"profiles": [{**STD, "gpus": "none"}]})["profiles"][0]["gpus"] == "none"


@pytest.mark.parametrize(
    "bad, field",
    [
        ([{"image": "x"}], "profiles[0].name"),
        ([{"name": "Big One", "image": "x"}], "profiles[0].name"),
        ([STD, STD], "profiles[1].name"),
        ([{"name": "a"}], "profiles[0].image"),
        ([{"name": "a", "image": "x y"}], "profiles[0].image"),
        ([{**STD, "shell": "/bin/sh"}], "profiles[0].shell"),
        ([{**STD, "description": "x" * 201}], "profiles[0].description"),
        ([{**STD, "memory_mb": "lots"}], "profiles[0].memory_mb"),
        ("std", "profiles"),
        ([{**STD, "name": f"p{i}"} for i in range(13)], "profiles"),
    ],
)
def test_bad_profiles_are_refused_naming_the_field(bad, field):
    assert refused({"profiles": bad}) == field


def test_one_profile_name_two_labs_is_refused_across_groups():
    theirs = {"profiles": [STD]}
    check_conflicts({"other": theirs}, "mine", {"profiles": [STD]})  # the same lab: fine
    with pytest.raises(model.PolicyError) as exc:
        check_conflicts({"other": theirs}, "mine", {"profiles": [{**STD, "image": "else"}]})
    assert exc.value.field == "profiles.std" and "other" in str(exc.value) and "mine" in str(exc.value)


def test_offered_profiles_across_groups_and_the_choice_of_a_start():
    offers = profiles.offered({"b-team": {"profiles": [BIG, STD]}, "a-team": {"profiles": [STD]}, "x": {}})
    assert [(p["name"], p["groups"]) for p in offers] == [("std", ["a-team", "b-team"]), ("big", ["b-team"])]
    assert profiles.choose(offers, {})["name"] == "std"  # the first offered is the default
    assert profiles.choose(offers, None)["name"] == "std"
    assert profiles.choose(offers, {"profile": "big"})["image"] == BIG["image"]
    for options, field in (
        ({"profile": "gpu"}, "profile"),
        ({"image": BIG["image"]}, "image"),
        ({"profile": "std", "image": BIG["image"]}, "image"),
        ({"cpus": 64}, "cpus"),
        ({"profile": 3}, "profile"),
        ("big", "user_options"),
    ):
        with pytest.raises(profiles.ProfileRefused) as exc:
            profiles.choose(offers, options)
        assert exc.value.field == field, options
    # nobody offers any: a plain start, and a profile asked for is refused
    assert profiles.choose([], {}) is None
    with pytest.raises(profiles.ProfileRefused):
        profiles.choose([], {"profile": "std"})


def test_a_profile_sets_its_limits_and_leaves_the_rest():
    values = {"memory_mb": 4096, "cpus": 2.0, "gpus": "none", "sources": {"memory_mb": ["g"]}}
    assert profiles.applied(values, None) == values
    got = profiles.applied(values, {**STD, "cpus": 1.0})
    assert got["memory_mb"] == 4096 and got["cpus"] == 1.0 and got["sources"]["cpus"] == ["profile std"]
    assert values["cpus"] == 2.0  # not changed in place


def test_the_options_form_lists_the_offers_escaped_and_selects_the_remembered_one():
    offers = profiles.offered({"t": {"profiles": [STD, {**BIG, "description": "<b>GPU</b> work"}]}})
    form = profiles.options_form(offers, "big")
    assert 'value="std"' in form and 'value="big" checked' in form and "<b>GPU</b>" not in form
    assert 'value="std" checked' in profiles.options_form(offers, "gone")  # no longer offered: the first
    assert profiles.options_form([], None) == ""  # nothing offered: no form, a start needs none
    assert profiles.options_from_form({"profile": ["big"]}) == {"profile": "big"}


def folder(group, gid, volume=None, viewers=None, vid=None):
    return {
        "volume": volume or projects.volume_name(group),
        "group_name": group,
        "group_id": gid,
        "viewers": viewers,
        "viewers_id": vid,
    }


def test_project_mounts_members_read_write_viewers_read_only_kept_by_nobody():
    folders = [
        folder("team", 1, viewers="readers", vid=2),
        folder("ops", 3, viewers="team", vid=1),
        folder("old", None, volume="jupyterhub-group-old_project"),
    ]
    member = projects.mounts_for({"team": 1}, folders)
    assert member == [
        {"group": "ops", "source": "jupyterhub-group-ops_project", "target": "/mnt/groups/ops", "mode": "ro"},
        {"group": "team", "source": "jupyterhub-group-team_project", "target": "/mnt/groups/team", "mode": "rw"},
    ]
    assert projects.mounts_for({"readers": 2}, folders) == [
        {"group": "team", "source": "jupyterhub-group-team_project", "target": "/mnt/groups/team", "mode": "ro"}
    ]
    assert [m["mode"] for m in projects.mounts_for({"team": 1, "ops": 3}, folders)] == ["rw", "rw"]  # rw wins
    # a new group under a deleted group's name (another id) gets nothing of the old one
    assert projects.mounts_for({"team": 9, "readers": 8}, folders) == []


def test_project_volume_names_are_the_hubs_and_never_a_policys():
    assert projects.volume_name("Team A") == "jupyterhub-group--54eam-20-41_project"
    assert projects.volume_name("team", 2) == "jupyterhub-group-team-x2_project"
    assert model.platform_volume(projects.volume_name("team"))  # no policy can mount it
    with pytest.raises(model.PolicyError) as exc:
        model.validate({"mounts": [{"source": "data", "target": "/mnt/groups/team"}]}, host_paths=[])
    assert exc.value.field == "mounts[0].target"
    projects.check_group_name("data-science_2")
    for bad in ("a/b", "..", "-x", "x" * 65, "ü"):
        with pytest.raises(BadRequest, match="cannot be a folder name"):
            projects.check_group_name(bad)
