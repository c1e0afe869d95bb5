import pytest

from stellars_hub.errors import BadRequest
from stellars_hub.notifications.validation import Broadcast, parse
from stellars_hub.web.errors import translate


def test_defaults_trimming_and_recipients_deduplicated():
    assert parse({"message": "  hi  "}) == Broadcast("hi", "info", False, None)
    got = parse({"message": "x" * 140, "type": "in-progress", "autoClose": True, "recipients": ["b", " a", "b"]})
    assert got == Broadcast("x" * 140, "in-progress", True, ("b", "a"))


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "message"),
        ({"message": " "}, "message"),
        ({"message": "y" * 141}, "message"),
        ({"message": None}, "message"),
        ({"message": "ok", "type": "INFO"}, "type"),
        ({"message": "ok", "autoClose": 1}, "autoClose"),
        ({"message": "ok", "recipients": []}, "recipients"),
        ({"message": "ok", "recipients": ["a", ""]}, "recipients"),
        ({"message": "ok", "recipients": {"a": 1}}, "recipients"),
        ({"message": "ok", "auto_close": True}, "auto_close"),
    ],
)
def test_each_bad_field_is_named(body, field):
    with pytest.raises(BadRequest) as err:
        parse(body)
    assert translate(err.value).status_code == 400
    assert str(err.value).startswith(f"{field}:")


def test_body_must_be_an_object():
    with pytest.raises(BadRequest) as err:
        parse(["message"])
    assert translate(err.value).status_code == 400 and "JSON object" in str(err.value)
