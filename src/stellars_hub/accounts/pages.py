"""The platform's versions of NativeAuthenticator's signup, authorisation and discard pages.

- Signup says exactly why a name or password is refused (the native page gives one vague
  message for every case) and is a 404, page and POST, when signup is off.
- The authorisation page knows which entries already are hub users: Discard is offered only
  for pending signups without a hub account.
- Discard refuses (409, with the reason) anything but such a pending signup: the native handler
  deleted the login record of any unauthorised name and even the hub user.
"""

from __future__ import annotations

from jupyterhub import orm
from nativeauthenticator import handlers as native
from nativeauthenticator.orm import UserInfo
from tornado import web

from . import adminguard


def hub_user_names(db) -> set[str]:
    return {n for (n,) in db.query(orm.User.name)}


class SignUpHandler(native.SignUpHandler):
    def _refusal(self) -> str | None:
        auth = self.authenticator
        username = auth.normalize_username(self.get_body_argument("username", "", strip=False))
        password = self.get_body_argument("signup_password", "", strip=False)
        refused = adminguard.signup_refusal(auth, username)
        if refused:
            return refused
        if auth.user_exists(username):
            return None  # the native page explains that the name is taken
        problem = auth.name_problem(username)
        if problem:
            return f"This user name cannot be used: {problem}."
        if len(password) < auth.minimum_password_length:
            return f"The password is too short: use at least {auth.minimum_password_length} characters."
        if auth.check_common_password and auth.is_password_common(password):
            return "This password is one of the most common passwords: choose a less guessable one."
        return None

    async def post(self):
        if not self.authenticator.enable_signup:
            raise web.HTTPError(404)
        refusal = self._refusal()
        if refusal is None:
            return await super().post()
        html = await self.render_template(
            "signup.html",
            ask_email=self.authenticator.ask_email_on_signup,
            result_message=refusal,
            alert="alert-danger",
            two_factor_auth=self.authenticator.allow_2fa,
            recaptcha_key=self.authenticator.recaptcha_key,
            tos=self.authenticator.tos,
        )
        self.set_status(400)
        self.finish(html)


class AuthorizationAreaHandler(native.AuthorizationAreaHandler):
    @native.admin_users_scope
    async def get(self):
        html = await self.render_template(
            "authorization-area.html",
            ask_email=self.authenticator.ask_email_on_signup,
            users=self.db.query(UserInfo).order_by(UserInfo.username).all(),
            hub_users=hub_user_names(self.db),
        )
        self.finish(html)


class DiscardHandler(native.DiscardHandler):
    """POST /hub/discard/<name>: forget a pending signup that never became a hub user."""

    @native.admin_users_scope
    async def get(self, user_name):
        raise web.HTTPError(405, "Discard with the Discard button on the Authorize Users page (a POST form)")

    @native.admin_users_scope
    async def post(self, user_name):
        info = self.authenticator.get_user(user_name)
        if info is None:
            raise web.HTTPError(404, f"There is no signup named {user_name}.")
        if self.find_user(info.username) is not None:
            raise web.HTTPError(
                409,
                f"{info.username} is a hub user, not a pending signup: discarding would delete "
                "their login. Un-authorise them to block logins, or delete the user in the "
                "admin panel.",
            )
        if info.is_authorized:
            raise web.HTTPError(409, f"{info.username} is authorised: un-authorise the signup first, then discard it.")
        self.db.delete(info)
        self.db.commit()
        self.log.info("%s discarded the pending signup of %s", self.current_user.name, info.username)
        self.redirect(self.hub.base_url + "authorize")


REPLACEMENTS = {
    native.SignUpHandler: SignUpHandler,
    native.AuthorizationAreaHandler: AuthorizationAreaHandler,
    native.DiscardHandler: DiscardHandler,
}
