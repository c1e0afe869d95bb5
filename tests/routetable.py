"""The platform's own routes, as registered: (pattern, handler class, methods).

Collected from every feature record's handlers and priority handlers,
so the permission matrix (tests/inprocess/test_permission_matrix.py) and the README's
who-may-do-what table follow the code: a new route without a row fails the matrix test.
"""

from __future__ import annotations

from dataclasses import dataclass

from tornado.web import RequestHandler

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    pattern: str  # as registered, under /hub
    handler: type
    methods: tuple[str, ...]  # upper case

    @property
    def path(self) -> str:
        return "/hub" + self.pattern


def methods_of(handler: type) -> tuple[str, ...]:
    # a subclass of one of JupyterHub's handlers names what the platform decides itself
    own = getattr(handler, "platform_methods", None)
    if own is not None:
        return tuple(own)
    return tuple(m.upper() for m in METHODS if getattr(handler, m) is not getattr(RequestHandler, m))


def routes(settings=None) -> list[Route]:
    from stellars_hub.features import FEATURES

    found = [(p, h) for f in FEATURES for p, h, *_ in (*f.priority_handlers, *f.handlers)]
    return [Route(p, h, methods_of(h)) for p, h in found]
