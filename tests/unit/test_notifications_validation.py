import pytest
from tornado.web import HTTPError

from stellars_hub.notifications.validation import Broadcast, parse


def test_defaults_trimming_and_recipients_deduplicated():
    assert parse({"message": "  hi  "}) == Broadcast("hi", "info", False, None)
    got = parse({"message": "x" * 140, "type": "in-progress", "autoClose": True, "recipients": ["b", " a", "b"]})
    assert got == Broadcast("x" * 140, "in-progress", True, ("b", "a"))


@pytest.mark.parametrize("body, field", [
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
])
def test_each_bad_field_is_named(body, field):
    with pytest.raises(HTTPError) as err:
        parse(body)
    assert err.value.status_code == 400
    assert err.value.log_message.startswith(f"{field}:")


def test_body_must_be_an_object():
    with pytest.raises(HTTPError) as err:
        parse(["message"])
    assert err.value.status_code == 400 and "JSON object" in err.value.log_message
