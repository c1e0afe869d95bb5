"""Batch targets with named servers: ``servers`` as user/server, the labels results carry."""

import pytest

from stellars_hub.batch import plan, runner


def test_servers_are_parsed_as_user_and_server():
    req = plan.parse({"action": "restart", "servers": ["ann/gpu", "bob/", "cy", "ann/gpu"]})
    assert req.servers == (("ann", "gpu"), ("bob", ""), ("cy", ""))  # duplicates once, order kept
    assert plan.label("ann", "gpu") == "ann/gpu" and plan.label("bob", "") == "bob"
    assert runner.who("ann/gpu") == {"username": "ann", "server": "gpu", "target": "ann/gpu"}


@pytest.mark.parametrize(
    "body",
    [
        {"action": "stop", "servers": []},
        {"action": "stop", "servers": "ann/gpu"},
        {"action": "stop", "servers": ["/gpu"]},
        {"action": "stop", "servers": ["ann/gpu/x"]},
        {"action": "stop", "servers": ["ann/gpu"], "users": ["ann"]},  # one kind of target only
    ],
)
def test_bad_server_targets_name_the_field(body):
    with pytest.raises(plan.BadRequest) as err:
        plan.parse(body)
    assert str(err.value).startswith(("servers:", "users:"))
