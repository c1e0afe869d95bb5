"""What the hub must know about the way users reach it.

Behind the compose stack's Traefik every request arrives over HTTPS (plain HTTP only
redirects), but the hub itself is spoken to in HTTP by its own proxy: left to guess from
forwarded headers, it could hand out cookies without the Secure flag. The operator's
``JUPYTERHUB_PUBLIC_SCHEME`` (or the scheme of ``JUPYTERHUB_PUBLIC_URL``) decides instead.

With labs on subdomains of the hub's domain (``JUPYTERHUB_SUBDOMAIN_HOST``, the default) over
HTTPS, the hub's login cookies carry the ``__Host-`` prefix (JupyterHub's
``cookie_host_prefix_enabled``): a browser then keeps them only as set by the hub's own host,
Secure, for the whole host and no wider, so a lab's page cannot toss a cookie of that name for
the hub's domain. (On one shared origin the prefix would put the cookies on ``/``, where every
lab path sees them: JupyterHub recommends it with per-user domains only.)
"""

from __future__ import annotations

from urllib.parse import urlparse

from ..hubsettings import StellarsHub


def configure(c, s, setdefault) -> None:
    site = s(StellarsHub)
    public_url = site.public_url
    scheme = urlparse(public_url).scheme if public_url else site.public_scheme
    if public_url:
        setdefault(c.JupyterHub, "public_url", public_url)
    if scheme == "https":
        # every hub cookie is sent over HTTPS only: JupyterHub reads the login and session
        # cookies' options from tornado's cookie_options, the XSRF cookie's from its own setting
        hub = c.JupyterHub
        current = dict(hub.tornado_settings) if "tornado_settings" in hub else {}
        hub.tornado_settings = {"cookie_options": {"secure": True}, "xsrf_cookie_kwargs": {"secure": True}, **current}
        if site.subdomain_host:
            setdefault(hub, "cookie_host_prefix_enabled", True)
