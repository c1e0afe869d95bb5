"""Subclasses keep their base's contract: NativeAuthenticator's own test suite (shipped in its
package, nativeauthenticator/tests/test_authenticator.py) runs here against NativeAuthenticator
and against the platform's StellarsAuthenticator, without copying a test: its test functions are
collected from the package and the name ``NativeAuthenticator`` in their module is pointed at
each class in turn. A difference that is deliberate is listed in DELIBERATE (and in README.md,
"Accounts"), with why; any other failure is a broken contract."""

from __future__ import annotations

import dbm
import time
from types import SimpleNamespace

import bcrypt
import pytest
from jupyterhub.tests.mocking import MockHub
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.tests import test_authenticator as native_suite

from stellars_hub.accounts.authenticator import StellarsAuthenticator

# the package's tests, collected as this module's (pytest runs every module-level test_* function)
for _name in dir(native_suite):
    if _name.startswith("test_"):
        globals()[_name] = getattr(native_suite, _name)

_gensalt = bcrypt.gensalt

# test name -> why StellarsAuthenticator answers differently on purpose (empty: none)
DELIBERATE: dict[str, str] = {}

# Python's dbm here: without gdbm and ndbm it writes dbm.dumb's passwords.dbm.dat/.dir files,
# which the package's FirstUse import tests do not look for (they fail for NativeAuthenticator too)
try:
    import dbm.gnu  # noqa: F401
except ImportError:
    try:
        import dbm.ndbm  # noqa: F401
    except ImportError:
        DUMB_DBM_ONLY = True
    else:
        DUMB_DBM_ONLY = False
else:
    DUMB_DBM_ONLY = False
FIRSTUSE_FILES = ("test_import_from_firstuse_dont_delete_db_after", "test_import_from_firstuse_delete_db_after")


@pytest.fixture(params=[NativeAuthenticator, StellarsAuthenticator], ids=["native", "stellars"], autouse=True)
def authenticator_class(request, monkeypatch):
    name = request.node.originalname
    if DUMB_DBM_ONLY and name in FIRSTUSE_FILES:
        pytest.xfail("this Python has only dbm.dumb, whose files the test does not look for (fails for both classes)")
    if request.param is StellarsAuthenticator and name in DELIBERATE:
        pytest.xfail(DELIBERATE[name])
    monkeypatch.setattr(native_suite, "NativeAuthenticator", request.param)
    # one test sleeps 12 s to outlast a lockout of 0 s (NativeAuthenticator counts whole seconds:
    # one is enough); the suite's clock is otherwise untouched
    monkeypatch.setattr(native_suite, "time", SimpleNamespace(sleep=lambda s: time.sleep(min(s, 1.1))))
    # bcrypt's cheapest cost: the same hashes and checks, a fraction of the suite's time
    monkeypatch.setattr(bcrypt, "gensalt", lambda rounds=4, prefix=b"2b": _gensalt(4, prefix))
    return request.param


@pytest.fixture
def tmpcwd(tmpdir):
    tmpdir.chdir()


@pytest.fixture
def app():
    """The package's own fixture: a fresh hub database per test (in memory)."""
    hub = MockHub(db_url="sqlite://")
    hub.init_db()
    return hub
