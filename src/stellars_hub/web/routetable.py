"""The platform's own routes, as registered: (pattern, handler class, methods).

Collected from every feature's ``routes.handlers()`` and the admin feature's PRIORITY_HANDLERS,
so the permission matrix (tests/security) and the README's who-may-do-what table follow the code:
a new route without a row fails the matrix test.
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
    return tuple(m.upper() for m in METHODS if getattr(handler, m) is not getattr(RequestHandler, m))


def routes(settings) -> list[Route]:
    from ..admin import routes as admin_routes
    from ..hubconfig import FEATURES

    found = [(p, h) for p, h, *_ in admin_routes.PRIORITY_HANDLERS]
    found += [(p, h) for f in FEATURES for p, h, *_ in f.handlers(settings)]
    return [Route(p, h, methods_of(h)) for p, h in found]
