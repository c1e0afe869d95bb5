"""The platform's authenticator: NativeAuthenticator, made to work on JupyterHub 6, plus
generated passwords for admin-created users, safe user names and volume ownership."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from pathlib import Path

from jupyterhub import orm
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.orm import UserInfo
from tornado import web
from traitlets import Integer, List, Unicode

from ..platform import Platform
from ..web.clientaddress import TrustedProxies, client_address
from . import adminguard, authorization, logins, names, pages, passwords, volumemap
from .compat import patched_handlers
from .credentials import CredentialCache
from .lockout import (
    DEVICE_COOKIE,
    DEVICE_DAYS,
    UNKNOWN_CLIENT,
    KnownAddresses,
    LoginClient,
    PairAttempts,
    device_of,
)
from .throttle import MAX_KEYS, AuthThrottle


class NameRefused(web.HTTPError):
    """A new user name the platform cannot use; the message says why (400)."""

    def __init__(self, reason: str):
        super().__init__(400, reason)


class StellarsAuthenticator(NativeAuthenticator):
    priority_handlers: List[tuple] = List(
        config=True,
        help="Hub routes that must take precedence over JupyterHub's default handlers for the same "
        "path (e.g. /health): JupyterHub registers the authenticator's handlers first.",
    )
    password_words = Integer(4, config=True, help="Words in a generated password")
    password_delimiter = Unicode("-", config=True, help="What joins the words of a generated password")
    credentials_ttl = Integer(300, config=True, help="Seconds generated passwords stay in memory for admins")
    initial_password_file = Unicode(
        "",
        config=True,
        help=(
            "Where the configured admin's generated password is written (mode 0600) when that admin has "
            "no login yet and admin_password is empty; empty: nowhere"
        ),
    )
    admin_password = Unicode("", config=True, help="The configured admin's password at the first start")
    auth_rate_per_address = Integer(
        30, config=True, help="Logins, signups and password changes per minute from one client address"
    )
    auth_rate_per_name = Integer(
        10, config=True, help="Logins, signups and password changes per minute for one user name"
    )
    trusted_proxies = Unicode(
        "",
        config=True,
        help="Reverse proxies in front of the hub's own proxy whose X-Forwarded-For entries are believed "
        "(addresses, CIDR networks or host names, comma-separated; see web/clientaddress.py)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.credentials = CredentialCache(self.credentials_ttl)
        self.throttle = AuthThrottle(self.auth_rate_per_address, self.auth_rate_per_name)
        self.proxies = TrustedProxies.parse(self.trusted_proxies)
        self.known_addresses = KnownAddresses()  # where each name logged in from (lockout.py)
        self.pair_attempts = PairAttempts()  # failed logins per (client, name)

    def get_handlers(self, app):
        return list(self.priority_handlers) + patched_handlers(
            super().get_handlers(app), {**pages.REPLACEMENTS, **authorization.REPLACEMENTS, **logins.REPLACEMENTS}
        )

    def check_allowed(self, username, authentication=None):
        # JupyterHub 5+ allows nobody unless told; with NativeAuthenticator the admin's
        # approval (is_authorized) is what allows a user, plus the configured admins.
        if username in self.admin_users:
            return True
        info = self.get_user(username)
        return info is not None and bool(info.is_authorized)

    # -- names ----------------------------------------------------------------------------
    def existing_names(self) -> list[str]:
        hub = [n for (n,) in self.db.query(orm.User.name)]
        return hub + [n for (n,) in self.db.query(UserInfo.username)]

    def name_problem(self, name: str) -> str | None:
        """Why a *new* user cannot be called ``name`` (existing users are never refused)."""
        existing = self.existing_names()
        if name in existing:
            return None
        return self._new_name_problem(name, existing)

    def _new_name_problem(self, name: str, existing: list[str]) -> str | None:
        if self.normalize_username(name) != name:
            # logins are looked up lower-cased: such a user could never log in
            return f"user names are lower-case: use {self.normalize_username(name)!r} instead of {name!r}"
        return names.problem(name) or names.collision(name, existing)

    def validate_username(self, username):
        problem = self.name_problem(username)
        if problem:
            # an HTTP error, so JupyterHub's user API (create, rename) answers with the reason
            raise NameRefused(problem)
        return super().validate_username(username)

    def create_user(self, username, password, **kwargs):
        """NativeAuthenticator's: None for a name that cannot be used (validate_username raises
        the reason instead, for JupyterHub's user API)."""
        try:
            return super().create_user(username, password, **kwargs)
        except NameRefused:
            return None

    async def get_authenticated_user(self, handler, data):
        try:
            return await super().get_authenticated_user(handler, data)
        except NameRefused:
            return None  # a login with a name nobody can have: simply a failed login

    # -- admin-created users --------------------------------------------------------------
    def generate_password(self) -> str:
        return passwords.generate(self.password_words, self.password_delimiter, self.minimum_password_length)

    def add_user(self, user):
        super().add_user(user)
        if isinstance(user, orm.User):
            # hub start-up: JupyterHub announces every stored user, nobody is being created
            self._bootstrap_admin(user.name)
            return
        volumemap.user_created(self.db, user.name)
        self.db.commit()
        info = self.get_user(user.name)
        if info is not None and info.is_authorized:
            return  # an approved signup logging in for the first time keeps their own password
        # JupyterHub's single-user POST /users/<name> creates the user before asking us
        problem = self._new_name_problem(user.name, self.existing_names())
        if problem:
            raise ValueError(problem)
        # created by an admin (panel or REST API): a login right away. A pending signup of the
        # same name is replaced: the admin vouches for the account, not for whoever signed up.
        password = self.generate_password()
        if info is None:
            info = UserInfo(username=user.name, password=passwords.hash_password(password), is_authorized=True)
            self.db.add(info)
        else:
            info.password, info.is_authorized = passwords.hash_password(password), True
        self.db.commit()
        self.credentials.put(user.name, password)
        self.log.info(
            "Created the login of %s with a generated password (shown to admins for %d s)",
            user.name,
            self.credentials.ttl,
        )

    def _bootstrap_admin(self, name: str) -> None:
        """The configured admin's first login: JUPYTERHUB_ADMIN_PASSWORD, or a generated password
        written to a file only the hub's user can read. Never from signup, never logged."""
        if name not in self.admin_users or self.get_user(name) is not None:
            return
        if self.admin_password:
            password, where = self.admin_password, None
        elif self.initial_password_file:
            password, where = self.generate_password(), Path(self.initial_password_file)
            where.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                os.fchmod(f.fileno(), 0o600)  # also when an older file was left with other rights
                f.write(password + "\n")  # what a person pastes into the login page: nothing else
        else:
            return
        self.db.add(UserInfo(username=name, password=passwords.hash_password(password), is_authorized=True))
        self.db.commit()
        if where is None:
            self.log.info("Admin %s: login created with JUPYTERHUB_ADMIN_PASSWORD", name)
        else:
            self.log.warning(
                "Admin %s had no login and JUPYTERHUB_ADMIN_PASSWORD is empty: its generated password "
                "is in %s (readable by the hub's user only). Log in, change it, then delete that file.",
                name,
                where,
            )

    def delete_user(self, user):
        """JupyterHub's hook before it deletes ``user``, synchronous as NativeAuthenticator's (its
        own callers do not await it): the configured admin is refused, the login record goes, the
        volume set stays claimed while the volumes exist. Every feature's records are dropped by
        the task it returns, which JupyterHub awaits (none when no platform runs here)."""
        adminguard.refuse_if_protected(self, user.name, "deleted")
        super().delete_user(user)  # NativeAuthenticator removes the login record
        volumemap.user_deleted(self.db, user.name)
        self.db.commit()
        self.credentials.drop(user.name)
        self.login_attempts.pop(user.name, None)
        self.pair_attempts.forget(user.name)
        self.known_addresses.forget(user.name)
        if not Platform.initialized():
            return None
        return asyncio.ensure_future(Platform.current().user_deleted(user.name))

    def user_renamed(self, old: str, new: str) -> None:
        """After a committed rename (see api.PlatformUserAPIHandler): in-memory records follow."""
        self.credentials.rename(old, new)
        attempts = self.login_attempts.pop(old, None)
        if attempts is not None:
            self.login_attempts[new] = attempts
        self.pair_attempts.rename(old, new)
        self.known_addresses.rename(old, new)

    # -- login ----------------------------------------------------------------------------
    def login_client(self, handler, username: str) -> LoginClient:
        """Who is trying to log in as ``username``: the client's address behind the trusted
        proxies, its browser's device id when its device cookie was set by a login of that name,
        and whether the name logged in from there before (lockout.py). Without a request (a
        direct call of ``authenticate``): an unknown client."""
        request = getattr(handler, "request", None)
        if request is None:
            return UNKNOWN_CLIENT
        address = client_address(request, self.proxies)
        read = getattr(handler, "get_signed_cookie", None)
        device = device_of(read(DEVICE_COOKIE, max_age_days=DEVICE_DAYS), username) if read else None
        return LoginClient(address, device, device is not None or self.known_addresses.knows(username, address))

    async def authenticate(self, handler, data):
        """NativeAuthenticator's check with bcrypt in a worker thread, unknown names treated like
        wrong passwords (same time, same lockout), a pending user's password checked only inside
        the lockout (the login page says "not authorised yet" from this one check), and the
        lockout keyed by client and name (lockout.py)."""
        username = self.normalize_username(data.get("username", ""))
        client = self.login_client(handler, username)
        if self.allowed_failed_logins and self.is_blocked(username, client):
            return None
        info = self.get_user(username)
        valid = await self.throttle.check(data.get("password", ""), info.password if info is not None else None)
        if valid and info.has_2fa:
            valid = info.is_valid_token(data.get("2fa"))
        if valid and not info.is_authorized:
            handler.stellars_pending_signup = True
            return None
        if valid:
            self.successful_login(username, client)
            return username
        self.add_login_attempt(username, client)
        return None

    # -- lockout --------------------------------------------------------------------------
    def _locked(self, record: dict | None, drop) -> float:
        """Seconds left of the lockout ``record`` holds (0: none). A lockout that is over is
        dropped: a fresh allowance, not one failure away from the next lockout."""
        if not record or record["count"] < self.allowed_failed_logins:
            return 0
        waited = (datetime.now() - record["time"]).total_seconds()
        if int(waited) > self.seconds_before_next_try:  # whole seconds, as NativeAuthenticator counts
            drop()
            return 0
        return self.seconds_before_next_try + 1 - waited

    def _lockout_left(self, username: str, client: LoginClient) -> float:
        left = self._locked(
            self.pair_attempts.get(client, username), lambda: self.pair_attempts.clear(client, username)
        )
        if not client.known:  # clients the name never logged in from share one count for the name
            left = max(left, self._locked(self.login_attempts.get(username), lambda: self.login_attempts.pop(username)))
        return left

    def is_blocked(self, username, client: LoginClient | None = None):
        return self._lockout_left(username, client or UNKNOWN_CLIENT) > 0

    def add_login_attempt(self, username, client: LoginClient | None = None):
        client = client or UNKNOWN_CLIENT
        if client.address or client.device:
            self.pair_attempts.add(client, username)
        if not client.known:
            super().add_login_attempt(username)  # the name-wide count (NativeAuthenticator's record)
            while len(self.login_attempts) > MAX_KEYS:  # unknown names are counted too: stay bounded
                self.login_attempts.pop(next(iter(self.login_attempts)))

    def successful_login(self, username, client: LoginClient | None = None):
        client = client or UNKNOWN_CLIENT
        super().successful_login(username)
        self.pair_attempts.clear(client, username)
        self.known_addresses.remember(username, client.address)

    def lockout_remaining(self, username: str, client: LoginClient | None = None) -> int:
        """Seconds until ``username`` may try again from ``client``, 0 when not locked out."""
        if not self.allowed_failed_logins:
            return 0
        left = self._lockout_left(username, client or UNKNOWN_CLIENT)
        return max(1, int(left) + 1) if left > 0 else 0
