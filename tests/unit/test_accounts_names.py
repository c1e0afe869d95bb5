"""Which new user names the platform refuses, and that accepted ones never share volumes."""

import random
import string

import pytest

from stellars_hub import naming
from stellars_hub.accounts import names


@pytest.mark.parametrize("name", ["ann", "first.last", "ann@lab", "a-b", "zoë", "日本", "x" * names.MAX_ESCAPED])
def test_accepted(name):
    assert names.problem(name) is None


@pytest.mark.parametrize(
    "name, says",
    [
        ("", "needed"),
        ("a b", "spaces"),
        ("a\tb", "spaces"),
        ("a,b", "commas"),
        ("a/b", "slashes"),
        ("a\\b", "backslashes"),
        ("a\u200bb", "invisible"),  # zero-width space
        ("a\x07", "control"),
        ("..", "not a usable"),
        ("zoe\u0308", "decomposed"),  # looks like 'zoë' but is another string
        ("x" * (names.MAX_ESCAPED + 1), "too long"),
        ("日本語の名前です", "too long"),  # 8 characters, 72 once escaped
    ],
)
def test_refused_with_reason(name, says):
    assert says in names.problem(name)


def test_every_accepted_name_fits_a_container_name():
    rng = random.Random(3)
    alphabet = string.ascii_lowercase + string.digits + ".-_@ü日"
    for _ in range(5000):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        if names.problem(name) is None:
            assert len(naming.container_name(name)) <= names.MAX_CONTAINER_NAME


def test_collisions_after_lower_casing_or_escaping():
    # JupyterHub lower-cases new names; a stored 'Ann' would be the same person at login
    assert "letter case" in names.collision("ann", ["Ann", "bob"])
    assert "letter case" in names.collision("strasse", ["straße"])
    assert names.collision("ann", ["ann", "bob"]) is None  # the same user is no collision
    assert names.collision("anna", ["Ann", "bob"]) is None


def test_collision_guard_catches_equal_escapes(monkeypatch):
    # escape_name is injective (test_naming); the guard still refuses if it ever were not
    monkeypatch.setattr(naming, "escape_name", lambda n: n.replace(".", "-"))
    assert "share containers and volumes" in names.collision("a-b", ["a.b"])


def test_generated_volume_bases_never_equal_an_escaped_name():
    rng = random.Random(5)
    alphabet = string.ascii_letters + string.digits + "-x_.@"
    escaped = {
        naming.escape_name("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))) for _ in range(20000)
    }
    generated = {naming.generated_base(n, k) for n in ("ann", "a-x2", "x") for k in range(2, 50)}
    assert not escaped & generated
    assert all(naming.GENERATION_MARK not in e for e in escaped)
