"""Each start's culling limits as the hub records them (in-process hub, fake engine): a lab started
with a GPU profile gets the site's shorter GPU defaults, the same member's CPU profile the site's
own, and a group's idle timeout wins over both at the next start."""

from __future__ import annotations

from harness import unique_name

HUB_ENV = {
    "JUPYTERHUB_GPU_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "86400",
    "JUPYTERHUB_IDLE_CULLER_GPU_TIMEOUT": "1800",
    "JUPYTERHUB_IDLE_CULLER_GPU_MAX_AGE": "43200",
}
PROFILES = [{"name": "cpu", "image": "lab:cpu", "gpus": "none"}, {"name": "gpu", "image": "lab:gpu", "gpus": "all"}]


def test_a_gpu_profile_gets_the_gpu_defaults_and_a_group_limit_wins(hub):
    admin = hub.admin_session()
    member, member_s = hub.new_user("gpu")
    group = unique_name("ml")
    assert hub.api(admin, "POST", f"groups/{group}").status_code == 201
    assert hub.api(admin, "POST", f"groups/{group}/users", json={"users": [member]}).status_code == 200
    r = hub.api(admin, "PUT", f"groups/{group}/policy", json={"gpus": "all", "profiles": PROFILES})
    assert r.status_code == 200, r.text

    def started_with(profile: str, policy_change: dict | None = None) -> tuple:
        if policy_change is not None:
            body = {"gpus": "all", "profiles": PROFILES, **policy_change}
            assert hub.api(admin, "PUT", f"groups/{group}/policy", json=body).status_code == 200
        assert hub.api(member_s, "POST", f"users/{member}/server", json={"profile": profile}).status_code in (201, 202)
        hub.wait_server(member_s, member, ready=True)
        info = hub.api(member_s, "GET", f"users/{member}/session-info").json()
        hub.stop_server(member_s, member)
        return info["timeout_seconds"], info["max_age_seconds"], info["limits_from"]

    assert started_with("gpu") == (1800, 43200, "GPU default")
    assert started_with("cpu") == (86400, 0, "default")
    assert started_with("gpu", {"idle_timeout_seconds": 7200}) == (
        7200,
        43200,
        f"idle timeout from group {group}; GPU default",
    )
