"""NativeAuthenticator 1.3 on JupyterHub 6: a small, named shim for its login handler.

Two things broke on JupyterHub 6:
- its POST handler times the login with ``self.statsd``, which JupyterHub 6 removed from
  handlers (every login answered 500);
- JupyterHub 6 renders login errors through ``_render(..., sync=True, **context)``, which the
  native ``_render(login_error, username)`` does not accept, and with a synchronous template
  environment that does not know the native templates (the 500 page itself failed).
"""

from __future__ import annotations

from jinja2 import ChoiceLoader, FileSystemLoader
from nativeauthenticator import handlers as native
from tornado.escape import url_escape
from tornado.httputil import url_concat


class _NoTimer:
    def start(self):
        return self

    def stop(self, send=True):
        return None


class _NoStatsd:
    def timer(self, name):
        return _NoTimer()


class LoginHandler(native.LoginHandler):
    statsd = _NoStatsd()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)  # registers the native templates with the async env
        env = self.settings["jinja2_env_sync"]
        if not getattr(env, "_native_templates", False):
            env.loader = ChoiceLoader([env.loader, FileSystemLoader([native.TEMPLATE_DIR])])
            env._native_templates = True

    def _render(self, login_error=None, username=None, sync=False, **_context):
        if login_error and username:
            # NativeAuthenticator's lockout answers like a wrong password; say what happens instead
            auth = self.authenticator
            name = auth.normalize_username(username)
            wait = auth.lockout_remaining(name, auth.login_client(self, name)) if hasattr(auth, "login_client") else 0
            if wait:
                login_error = (
                    f"Too many failed logins for {username}. Logins for this user are paused: "
                    f"try again in {wait} seconds."
                )
        return self.render_template(
            "native-login.html",
            sync=sync,
            next=url_escape(self.get_argument("next", default="")),
            username=username,
            login_error=login_error,
            custom_html=self.authenticator.custom_html,
            login_url=self.settings["login_url"],
            enable_signup=self.authenticator.enable_signup,
            two_factor_auth=self.authenticator.allow_2fa,
            authenticator_login_url=url_concat(
                self.authenticator.login_url(self.hub.base_url), {"next": self.get_argument("next", "")}
            ),
        )


def patched_handlers(handlers, replacements=None):
    """Swap NativeAuthenticator's handlers: the shimmed login handler, plus ``replacements``
    (native class -> the platform's subclass)."""
    swap = {native.LoginHandler: LoginHandler, **(replacements or {})}
    return [(route, swap.get(h, h), *rest) for route, h, *rest in handlers]
