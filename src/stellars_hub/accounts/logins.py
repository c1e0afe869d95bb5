"""Login, signup and password-change pages with throttles and bcrypt off the event loop.

- Every attempt is first counted per client address and per user name: over the limit the
  page answers 429 with ``Retry-After`` and no password is looked at.
- Unknown names get the same answer as wrong passwords, take the same time (a decoy hash) and
  count towards the same lockout.
- A pending (not yet authorised) user is told so only when the password was right and the
  name is not locked out: the password is checked once, inside the lockout, never beside it.
- A successful login marks the browser with a signed device cookie, so that lockouts caused by
  someone else's failures for the name never apply to it (lockout.py).
"""

from __future__ import annotations

from nativeauthenticator import handlers as native
from nativeauthenticator.orm import UserInfo
from tornado import web

from ..web.base import StellarsMixin
from .compat import LoginHandler as CompatLoginHandler
from .lockout import DEVICE_COOKIE, DEVICE_DAYS, device_cookie_value, new_device_id
from .pages import SignUpHandler as RefusingSignUpHandler


def _wait(handler, name: str | None) -> int:
    auth = handler.authenticator
    client = auth.login_client(handler, name or "")
    return auth.throttle.wait(client.address, name, client.known)


def _too_many(handler, wait: int) -> str:
    handler.set_status(429)
    handler.set_header("Retry-After", str(wait))
    return f"Too many attempts from here or for this user name: try again in {wait} seconds."


class LoginHandler(CompatLoginHandler):
    async def post(self):
        data = {arg: self.get_argument(arg, strip=False) for arg in self.request.arguments}
        username = data.get("username", "")
        wait = _wait(self, self.authenticator.normalize_username(username) or None)
        if wait:
            self.finish(await self._render(login_error=_too_many(self, wait), username=username))
            return
        user = await self.login_user(data)
        if user:
            self._jupyterhub_user = user
            self.remember_device(user.name)
            self.redirect(self.get_next_url(user))
            return
        error = "Invalid username or password."
        if getattr(self, "stellars_pending_signup", False):
            error = f"User {username} has not been authorized by an administrator yet."
        self.finish(await self._render(login_error=error, username=username))

    def remember_device(self, name: str) -> None:
        """This browser logged in as ``name``: the signed device cookie that makes it a known
        client of the name (its id kept across logins, renewed for DEVICE_DAYS)."""
        device = self.authenticator.login_client(self, name).device or new_device_id()
        options: dict = {"httponly": True, "path": self.hub.base_url, "expires_days": DEVICE_DAYS}
        public_url = self.settings.get("public_url")
        if (public_url.scheme if public_url else self.request.protocol) == "https":
            options["secure"] = True
        options.update(self.settings.get("cookie_options", {}))
        self.set_signed_cookie(DEVICE_COOKIE, device_cookie_value(name, device), **options)


class SignUpHandler(RefusingSignUpHandler):
    async def post(self):
        auth = self.authenticator
        if not auth.enable_signup:
            raise web.HTTPError(404)
        username = auth.normalize_username(self.get_body_argument("username", "", strip=False))
        wait = _wait(self, username or None)
        if wait:
            return await self._answer(_too_many(self, wait), "alert-danger", status=429)
        refusal = self._refusal()
        if refusal:
            return await self._answer(refusal, "alert-danger", status=400)
        password = self.get_body_argument("signup_password", "", strip=False)
        if password != self.get_body_argument("signup_password_confirmation", "", strip=False):
            return await self._answer(
                "Your password did not match the confirmation. Please try again.", "alert-danger", status=400
            )
        if auth.user_exists(username):
            return await self._answer(
                "This user name is already in use: choose another one.", "alert-danger", status=409
            )
        hashed = await auth.throttle.hash(password)
        if auth.user_exists(username):  # signed up by someone else while we hashed
            return await self._answer(
                "This user name is already in use: choose another one.", "alert-danger", status=409
            )
        self.db.add(UserInfo(username=username, password=hashed, is_authorized=False))
        self.db.commit()
        await self._answer("Your information has been sent to the admin.", "alert-info")

    async def _answer(self, message: str, alert: str, status: int = 200) -> None:
        html = await self.render_template(
            "signup.html",
            ask_email=self.authenticator.ask_email_on_signup,
            result_message=message,
            alert=alert,
            two_factor_auth=self.authenticator.allow_2fa,
            recaptcha_key=self.authenticator.recaptcha_key,
            tos=self.authenticator.tos,
        )
        self.set_status(status)
        self.finish(html)


def _weak_password(auth, password: str) -> str | None:
    if len(password) < auth.minimum_password_length:
        return f"The new password is too short: use at least {auth.minimum_password_length} characters."
    if auth.check_common_password and auth.is_password_common(password):
        return "The new password is one of the most common passwords: choose a less guessable one."
    return None


class ChangePasswordHandler(native.ChangePasswordHandler):
    @web.authenticated
    async def post(self):
        user = self.current_user
        auth = self.authenticator
        wait = _wait(self, user.name)
        if wait:
            return await self._answer(_too_many(self, wait), 429)
        info = auth.get_user(user.name)
        if info is None:
            return await self._answer(
                f"{user.name} has no password login on this hub, so there is none to change. "
                "Ask an administrator to set one (Authorize Users, Change password).",
                409,
            )
        old = self.get_body_argument("old_password", "", strip=False)
        new = self.get_body_argument("new_password", "", strip=False)
        if not await auth.throttle.check(old, info.password):
            return await self._answer("Your current password was incorrect. Please try again.", 400)
        if new != self.get_body_argument("new_password_confirmation", "", strip=False):
            return await self._answer("Your new password didn't match the confirmation. Please try again.", 400)
        weak = _weak_password(auth, new)
        if weak:
            return await self._answer(weak, 400)
        info.password = await auth.throttle.hash(new)
        self.db.commit()
        await self._answer("Your password has been changed successfully!", 200, "alert-success")

    async def _answer(self, message: str, status: int, alert: str = "alert-danger") -> None:
        html = await self.render_template(
            "change-password.html", user_name=self.current_user.name, result_message=message, alert=alert
        )
        self.set_status(status)
        self.finish(html)


class ChangePasswordAdminHandler(StellarsMixin, native.ChangePasswordAdminHandler):
    @native.admin_users_scope
    async def post(self, user_name):
        auth = self.authenticator
        info = auth.get_user(user_name)
        if info is None:
            raise web.HTTPError(404, f"There is no login named {user_name}.")
        new = self.get_body_argument("new_password", "", strip=False)
        if new != self.get_body_argument("new_password_confirmation", "", strip=False):
            self.audit(user_name, "reset-password", "refused 400", reason="confirmation differs")
            return await self._answer(
                user_name, "The new password didn't match the confirmation. Please try again.", 400
            )
        weak = _weak_password(auth, new)
        if weak:
            self.audit(user_name, "reset-password", "refused 400", reason=weak)
            return await self._answer(user_name, weak, 400)
        info.password = await auth.throttle.hash(new)
        self.db.commit()
        self.audit(user_name, "reset-password", "ok")  # who reset whose password; never the password
        await self._answer(
            user_name, f"The password for {user_name} has been changed successfully", 200, "alert-success"
        )

    async def _answer(self, user_name: str, message: str, status: int, alert: str = "alert-danger") -> None:
        html = await self.render_template(
            "change-password-admin.html", user_name=user_name, result_message=message, alert=alert
        )
        self.set_status(status)
        self.finish(html)


REPLACEMENTS = {
    native.LoginHandler: LoginHandler,
    native.SignUpHandler: SignUpHandler,
    native.ChangePasswordHandler: ChangePasswordHandler,
    native.ChangePasswordAdminHandler: ChangePasswordAdminHandler,
}
