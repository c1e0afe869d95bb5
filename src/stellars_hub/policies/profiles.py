"""A lab per need: a group policy may offer profiles (a name, an image, and memory, CPUs and GPUs
within the group's own bounds); a member picks one when starting. The choice travels as
JupyterHub's ``user_options`` (``{"profile": name}``: the spawn page's options form, the body of
``POST /hub/api/users/<name>/server[s/<server>]``), which JupyterHub remembers for the next start
of that server (Restart Server's recreate and batch starts use what was remembered).

``choose`` is the one rule about what a start may ask for: called by ``apply_user_options`` (so a
bad request is a 400 before anything starts) and again by the pre-spawn step that builds the lab
(``hub.Policies.spec_for``), whichever way the start came. Only an offered profile's image ever
reaches a lab: an ``image`` in the request, or a profile not offered to the user, is refused.
"""

from __future__ import annotations

import html
import re

from .model import PolicyError

FIELD = "profiles"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# an image reference: [registry[:port]/]path[:tag][@digest]
IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$")
KEYS = ("name", "description", "image", "memory_mb", "cpus", "gpus")
MAX_PROFILES = 12
MAX_DESCRIPTION = 200
OPTION = "profile"  # the one key of user_options


class ProfileRefused(PolicyError):
    """A start asked for something it may not have (400 before anything starts)."""


def _within(value, bound, field: str, *, integer: bool, minimum: float) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and int(value) != value):
        raise PolicyError(field, "must be a whole number" if integer else "must be a number")
    if bound:  # the group (or the site's default) limits it: no profile goes above, nor unlimited
        if not minimum <= value <= bound:
            raise PolicyError(field, f"must be between {minimum:g} and the group's bound {bound:g}")
    elif value != 0 and value < minimum:
        raise PolicyError(field, f"must be 0 (no limit) or at least {minimum:g}")
    return int(value) if integer else float(value)


def _gpus(value, bound, field: str):
    if value in ("none", "all") or isinstance(value, list):
        wanted = value
    else:
        raise PolicyError(field, 'must be "none", "all" or a list of device ids')
    if isinstance(wanted, list):
        wanted = [str(v) for v in wanted]
        if not wanted:
            raise PolicyError(field, "a list of device ids must not be empty")
    if wanted == "none" or bound == "all":
        return wanted
    if isinstance(bound, list) and isinstance(wanted, list) and set(wanted) <= set(bound):
        return wanted
    offered = (
        "none" if bound in (None, "none") else ("devices " + ", ".join(bound) if isinstance(bound, list) else bound)
    )
    raise PolicyError(field, f"the group's own GPUs are {offered}: a profile offers at most those")


def validate_profiles(raw, policy: dict, defaults=None) -> list[dict]:
    """The stored form of a policy's ``profiles``; ``policy``: the rest of the group's policy
    (already validated: its limits are the bounds), ``defaults``: the site's (a group that sets
    no limit is bounded by them)."""
    if not isinstance(raw, list):
        raise PolicyError(FIELD, "must be a list of {name, image, description, memory_mb, cpus, gpus}")
    if len(raw) > MAX_PROFILES:
        raise PolicyError(FIELD, f"at most {MAX_PROFILES} profiles")
    bounds = {
        "memory_mb": policy.get("memory_mb", getattr(defaults, "memory_mb", 0)),
        "cpus": policy.get("cpus", getattr(defaults, "cpus", 0)),
    }
    profiles, names = [], set()
    for i, item in enumerate(raw):
        field = f"{FIELD}[{i}]"
        if not isinstance(item, dict):
            raise PolicyError(field, "must be an object {name, image, ...}")
        unknown = sorted(set(item) - set(KEYS))
        if unknown:
            raise PolicyError(f"{field}.{unknown[0]}", f"unknown field; a profile has {', '.join(KEYS)}")
        name, image = item.get("name"), item.get("image")
        if not isinstance(name, str) or not NAME.match(name):
            raise PolicyError(
                f"{field}.name", "lower-case letters, digits and - (at most 32, starting with a letter or digit)"
            )
        if name in names:
            raise PolicyError(f"{field}.name", f"{name} is offered twice")
        if not isinstance(image, str) or not IMAGE.match(image):
            raise PolicyError(
                f"{field}.image", "an image reference such as registry.example.org/lab:2026.1 is required"
            )
        profile: dict = {"name": name, "image": image}
        description = item.get("description")
        if description not in (None, ""):
            if not isinstance(description, str) or len(description) > MAX_DESCRIPTION or "\0" in description:
                raise PolicyError(f"{field}.description", f"text of at most {MAX_DESCRIPTION} characters")
            profile["description"] = description
        if item.get("memory_mb") is not None:
            profile["memory_mb"] = _within(
                item["memory_mb"], bounds["memory_mb"], f"{field}.memory_mb", integer=True, minimum=64
            )
        if item.get("cpus") is not None:
            profile["cpus"] = _within(item["cpus"], bounds["cpus"], f"{field}.cpus", integer=False, minimum=0.01)
        if item.get("gpus") is not None:
            profile["gpus"] = _gpus(item["gpus"], policy.get("gpus"), f"{field}.gpus")
        names.add(name)
        profiles.append(profile)
    return profiles


def check_conflicts(stored: dict[str, dict], group_name: str, policy: dict) -> None:
    """Refuse a profile name another group offers with other content (a member of both would
    get one name for two labs), naming both groups."""
    mine = {p["name"]: p for p in policy.get(FIELD, [])}
    for other in sorted(stored):
        if other == group_name:
            continue
        for theirs in stored[other].get(FIELD, []):
            if theirs["name"] in mine and mine[theirs["name"]] != theirs:
                raise PolicyError(
                    f"{FIELD}.{theirs['name']}",
                    f"group {other} already offers a profile {theirs['name']} that differs; "
                    f"groups {group_name} and {other} would offer members two labs under one name",
                )


def offered(policies: dict[str, dict]) -> list[dict]:
    """The profiles a member of these groups (name -> policy) may choose, in group-name order, each
    with the ``groups`` offering it; the first is the default."""
    found: dict[str, dict] = {}
    for group in sorted(policies):
        for profile in policies[group].get(FIELD, []):
            seen = found.get(profile["name"])
            if seen is None:
                found[profile["name"]] = {**profile, "groups": [group]}
            elif {k: v for k, v in seen.items() if k != "groups"} == profile:
                seen["groups"].append(group)
            # a differing profile of the same name (saved before the check): the first group's
    return list(found.values())


def choose(offers: list[dict], user_options) -> dict | None:
    """The profile a start with these ``user_options`` gets (None: no profile is offered), or
    ProfileRefused: a profile not offered, an image asked for directly, an unknown option."""
    if user_options is None:
        user_options = {}
    if not isinstance(user_options, dict):
        raise ProfileRefused("user_options", 'must be an object such as {"profile": "<name>"}')
    names = ", ".join(p["name"] for p in offers) or "none"
    for key in user_options:
        if key == "image":
            raise ProfileRefused(
                "image",
                f"a lab's image is chosen by its profile, never by the request; profiles offered to you: {names}",
            )
        if key != OPTION:
            raise ProfileRefused(str(key), f"unknown option; a lab is chosen by its profile (offered to you: {names})")
    wanted = user_options.get(OPTION)
    if wanted is not None and not isinstance(wanted, str):
        raise ProfileRefused(OPTION, "must be the name of a profile")
    if not offers:
        if wanted:
            raise ProfileRefused(OPTION, f"{wanted!r} is not offered to you: none of your groups offers profiles")
        return None
    if not wanted:
        return offers[0]
    for profile in offers:
        if profile["name"] == wanted:
            return profile
    raise ProfileRefused(OPTION, f"{wanted!r} is not offered to you; choose one of: {names}")


def describe(profile: dict) -> str:
    """One line for people: image and what the profile sets."""
    parts = [profile["image"]]
    if profile.get("memory_mb") is not None:
        mb = profile["memory_mb"]
        parts.append("no memory limit" if mb == 0 else f"{mb / 1024:g} GiB" if mb >= 1024 else f"{mb} MiB")
    if profile.get("cpus") is not None:
        parts.append("no CPU limit" if profile["cpus"] == 0 else f"{profile['cpus']:g} CPUs")
    gpus = profile.get("gpus")
    if gpus is not None:
        parts.append("no GPU" if gpus == "none" else "all GPUs" if gpus == "all" else "GPUs " + ", ".join(gpus))
    return ", ".join(parts)


def options_form(offers: list[dict], chosen: str | None) -> str:
    """JupyterHub's spawn-page form: one radio button per offered profile ("" when none is
    offered, so that a start needs no form, as before)."""
    if not offers:
        return ""
    names = [p["name"] for p in offers]
    selected = chosen if chosen in names else names[0]
    rows = []
    for p in offers:
        pid = f"profile-{p['name']}"
        checked = " checked" if p["name"] == selected else ""
        description = (
            f'<div class="small text-body-secondary">{html.escape(p["description"])}</div>'
            if p.get("description")
            else ""
        )
        rows.append(
            f'<div class="form-check stellars-profile mb-2">'
            f'<input class="form-check-input" type="radio" name="{OPTION}" id="{pid}" value="{p["name"]}"{checked}>'
            f'<label class="form-check-label" for="{pid}"><strong>{html.escape(p["name"])}</strong> '
            f'<span class="text-body-secondary">{html.escape(describe(p))}</span>'
            f'<span class="small text-body-secondary"> (from {html.escape(", ".join(p["groups"]))})</span>'
            f"</label>{description}</div>"
        )
    return (
        '<fieldset id="stellars-profiles"><legend class="h6">Choose your lab</legend>' + "".join(rows) + "</fieldset>"
    )


def options_from_form(formdata: dict) -> dict:
    """The spawn form's fields as user_options (checked again by ``choose``)."""
    options = {}
    for key, values in formdata.items():
        value = values[0] if isinstance(values, list) and values else values
        options[key] = value.decode() if isinstance(value, bytes) else value
    return options


def applied(values: dict, profile: dict | None) -> dict:
    """``values`` (memory_mb, cpus, gpus and their ``sources``) with what the profile sets instead."""
    if profile is None:
        return values
    values = {**values, "sources": dict(values.get("sources", {}))}
    for field in ("memory_mb", "cpus", "gpus"):
        if profile.get(field) is not None:
            values[field] = profile[field]
            values["sources"][field] = [f"profile {profile['name']}"]
    return values
