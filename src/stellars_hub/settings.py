"""Settings: every operator setting is one trait of the Configurable of the feature that owns it,
with its help text, default and bounds there and its ``JUPYTERHUB_*`` variable as an ``env``
tag (as JupyterHub's own ``cookie_secret`` is tagged ``env="JPY_COOKIE_SECRET"``).

A value comes from a config file (``c.SelfService.restart_timeout = 30``), else from the variable,
else the trait's default. The trait types below read their variable and apply the rules a value
must follow, whether it is the variable's text or a config file's value; a bad value names the
variable (or trait) and what is allowed. :func:`load` walks the configurables: it validates every
setting at once (:class:`ConfigError` names each bad one), and the :class:`Settings` it returns
holds the hub's one instance of each class and the rows the Settings page and
``stellars-hub check`` show. The README table, ``--help-all`` and the compose defaults test are
derived from the same traits.

Declaring a new setting, on the feature's Configurable (a :class:`SettingsGroup`)::

    class SelfService(SettingsGroup):
        category = "Self-service"  # the heading of its settings (README, Settings page, check)

        restart_timeout = Int(
            10, min=0, max=600, help="Seconds a lab gets to stop gracefully on Restart Server"
        ).tag(config=True, env="JUPYTERHUB_RESTART_TIMEOUT", unit="seconds")

Types: Bool (0/1), Int and Float (min/max), Enum (choices), Unicode (``allow_empty=True`` when
empty means "derived"), URLPrefix, SubdomainHost, URI, DatabaseURL. Tags: ``env`` (required),
``unit``, ``secret=True`` (masked everywhere), ``category`` (when not the class's). A new class is
added to ``platform.configurables()``. Then add the variable with its default to the hub's
environment in compose.yml and run ``python tests/readme.py``. Code reads the
trait: ``platform.settings(SelfService).restart_timeout`` (handlers: ``self.configured(...)``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import traitlets
from traitlets import TraitError, TraitType
from traitlets.config import Config, Configurable

C = TypeVar("C", bound=Configurable)
SOURCES = ("default", "environment", "config file")


class ConfigError(Exception):
    """One or more settings are invalid; ``problems`` holds one line per setting."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


# -- trait types: the rules of a value, as a variable's text or a config file's value ----------


class SettingType(TraitType):
    """What every setting's trait type shares. Its default is the variable named by its ``env``
    tag when that is set (else the declared default); text, from the variable, a config file or
    the command line, is read by :meth:`parse_text`, a typed value by :meth:`parse_value`."""

    empty_ok = False  # an empty text is a value (and means "derived")

    @property
    def env(self) -> str:
        return self.metadata.get("env", "")

    def default(self, obj=None):
        text = os.environ.get(self.env) if self.env else None
        return self.default_value if text is None else text

    def default_value_repr(self) -> str:
        return f"${self.env} or {self.text(self.default_value)!r}"

    def from_string(self, s: str):
        return s  # the command line's text follows the variable's rules (validate reads it)

    def validate(self, obj, value):
        try:
            return self.parse(value)
        except ValueError as exc:
            owner = type(obj).__name__ if obj is not None else "?"
            raise TraitError(f"{owner}.{self.name} ({self.env}): {exc}; allowed: {self.allowed()}") from None

    def parse(self, value: Any) -> Any:
        """The typed value of a variable's text or of a config file's value, or ValueError."""
        if isinstance(value, str):
            text = value.strip()
            if text == "" and not self.empty_ok:
                raise ValueError("must not be empty")
            return self.parse_text(text, value)
        return self.parse_value(value)

    def parse_text(self, text: str, raw: str) -> Any:
        return text

    def parse_value(self, value: Any) -> Any:
        raise ValueError(f"{value!r} is invalid")

    def text(self, value: Any) -> str:
        """A value written the way its variable would hold it."""
        return str(value)

    def allowed(self) -> str:
        return "any text" if self.empty_ok else "a non-empty text"

    def unit_suffix(self) -> str:
        unit = self.metadata.get("unit")
        return f" ({unit})" if unit else ""


class Unicode(SettingType, traitlets.Unicode[str, Any]):
    def __init__(self, default_value: str = "", *, allow_empty: bool = False, **kwargs):
        self.empty_ok = allow_empty or self.empty_ok
        super().__init__(default_value, **kwargs)


class Bool(SettingType, traitlets.Bool[bool, Any]):
    """0 or 1 in the variable; True or False in a config file."""

    def parse_text(self, text, raw):
        if text not in ("0", "1"):
            raise ValueError(f"{raw!r} is invalid")
        return text == "1"

    def parse_value(self, value):
        if isinstance(value, bool):
            return value
        return super().parse_value(value)

    def text(self, value):
        return "1" if value else "0"

    def allowed(self):
        return "0 or 1"


class Enum(SettingType, traitlets.Enum[str]):
    """One of the given texts (a config file's number counts as its text)."""

    def __init__(self, values: Iterable[str], default_value: str, **kwargs):
        super().__init__(tuple(values), default_value, **kwargs)

    def parse_text(self, text, raw):
        if text not in (self.values or ()):
            raise ValueError(f"{raw!r} is invalid")
        return text

    def parse_value(self, value):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.parse(str(value))
        return super().parse_value(value)

    def allowed(self):
        return "one of " + ", ".join(self.values or ())


class Int(SettingType, traitlets.Int[int, Any]):
    """A whole number within ``min``..``max``."""

    def parse_text(self, text, raw):
        if not re.fullmatch(r"-?\d+", text):
            raise ValueError(f"{raw!r} is invalid")
        number = int(text)
        if self.min is not None and number < self.min:
            raise ValueError(f"{number} is below the minimum {self.min}")
        if self.max is not None and number > self.max:
            raise ValueError(f"{number} is above the maximum {self.max}")
        return number

    def parse_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return self.parse(str(value))
        return super().parse_value(value)

    def allowed(self):
        lo = "" if self.min is None else str(self.min)
        hi = "" if self.max is None else str(self.max)
        span = f"{lo}..{hi}" if hi else f">= {lo}" if lo else "any"
        return f"a whole number {span}" + self.unit_suffix()


class Float(SettingType, traitlets.Float[float, Any]):
    """A number within ``min``..``max`` (both required)."""

    def parse_text(self, text, raw):
        if not re.fullmatch(r"\d+(\.\d+)?", text):
            raise ValueError(f"{raw!r} is invalid")
        amount = float(text)
        if not self.min <= amount <= self.max:
            raise ValueError(f"{text} is outside {self.text(self.min)}..{self.text(self.max)}")
        return amount

    def parse_value(self, value):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.parse(self.text(value))
        return super().parse_value(value)

    def text(self, value):
        number = float(value)
        return str(int(number)) if number.is_integer() else str(number)

    def allowed(self):
        return f"a number from {self.text(self.min)} to {self.text(self.max)}" + self.unit_suffix()


_BASE_URL_PART = re.compile(r"^[A-Za-z0-9._~-]+$")


def normalize_base_url(raw: str) -> str:
    """'/', '' -> '/'; 'x', '/x', '/x/' -> '/x/'. Never yields '//'."""
    parts = [p for p in raw.strip().split("/") if p]
    for p in parts:
        if not _BASE_URL_PART.match(p) or p in (".", ".."):
            raise ValueError(f"{p!r} is not a valid URL path segment")
    return "/" + "".join(p + "/" for p in parts)


class URLPrefix(Unicode):
    """A URL path the hub is served under, normalised to ``/x/`` (empty or ``/``: the root)."""

    empty_ok = True

    def parse_text(self, text, raw):
        return normalize_base_url(text)

    def allowed(self):
        return "a URL path such as /jupyterhub (/, empty or unset mean the root)"


class SubdomainHost(Unicode):
    """``off`` or empty, or an http(s) URL without a path."""

    empty_ok = True

    def parse_text(self, text, raw):
        if text == "off":
            return ""
        if text and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?/?", text):
            raise ValueError(f"{raw!r} is invalid")
        return text.rstrip("/")

    def allowed(self):
        return (
            "off (or empty), or an http(s):// URL without a path, such as https://example.org or https://localhost:8443"
        )


class URI(Unicode):
    def parse_text(self, text, raw):
        if not re.match(r"^(file://|https?://)\S+$", text):
            raise ValueError(f"{raw!r} is invalid")
        return text

    def allowed(self):
        return "a file:// path or an http(s):// URL"


class DatabaseURL(Unicode):
    empty_ok = True

    def parse_text(self, text, raw):
        if text and not re.match(r"^(sqlite|postgresql)(\+\w+)?://", text):
            raise ValueError("the URL is invalid")
        return text

    def allowed(self):
        return "empty (SQLite in the data directory) or a sqlite:// or postgresql:// URL"


class SettingsGroup(Configurable):
    """A Configurable whose settings carry an ``env`` tag; ``category`` heads them in the views."""

    category: ClassVar[str] = ""

    @classmethod
    def class_get_trait_help(cls, trait, inst=None, helptext=None):
        if isinstance(trait, SettingType) and helptext is None:
            helptext = f"{trait.help}. Allowed: {trait.allowed()}. Environment variable: {trait.env}."
        return super().class_get_trait_help(trait, inst, helptext)


# -- the walk over the configurables ------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting as the derived views show it: a trait with an ``env`` tag, on its owner."""

    owner: type[Configurable]
    type: SettingType

    @property
    def name(self) -> str:
        return self.type.env

    @property
    def trait(self) -> str:
        return f"{self.owner.__name__}.{self.type.name}"

    @property
    def category(self) -> str:
        return self.type.metadata.get("category") or getattr(self.owner, "category", "") or self.owner.__name__

    @property
    def description(self) -> str:
        return self.type.help

    @property
    def secret(self) -> bool:
        return bool(self.type.metadata.get("secret"))

    @property
    def default(self) -> str:
        return self.type.text(self.type.default_value)

    def allowed(self) -> str:
        return self.type.allowed()

    def parse(self, value: Any) -> Any:
        return self.type.parse(value)


def declared(classes: Iterable[type[Configurable]]) -> tuple[Setting, ...]:
    """Every setting of ``classes``, grouped by category (in the order the classes declare their
    categories), each group in declaration order."""
    classes = list(classes)
    found = [
        Setting(cls, value)
        for cls in classes
        for value in vars(cls).values()
        if isinstance(value, SettingType) and value.env
    ]
    order: dict[str, int] = {}
    for cls in classes:
        if getattr(cls, "category", ""):
            order.setdefault(cls.category, len(order))  # type: ignore[attr-defined]
    for s in found:
        order.setdefault(s.category, len(order))
    found.sort(key=lambda s: order[s.category])
    names = [s.name for s in found]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"declared more than once: {', '.join(repeated)}")
    return tuple(found)


def _given(config: Config, s: Setting) -> tuple[bool, Any]:
    """Whether a config file sets ``s``'s trait, and to what."""
    owner = s.owner.__name__
    if owner in config and s.type.name in config[owner]:  # (`in`: reading a section creates it)
        return True, config[owner][s.type.name]
    return False, None


class Settings:
    """The hub's effective settings: the one instance of each settings class (``settings(Labs)``),
    and each setting's value and where it came from."""

    def __init__(self, found: tuple[Setting, ...], values: dict[str, Any], sources: dict[str, str], config: Config):
        self.declared = found
        self.values = values  # variable name -> typed value
        self.sources = sources  # variable name -> one of SOURCES
        self.config = config  # the site's configuration with every setting's value filled in
        self._instances: dict[type, Configurable] = {}

    def __call__(self, cls: type[C]) -> C:
        """The hub's instance of ``cls``, made from the configuration these values came from."""
        if cls not in self._instances:
            self._instances[cls] = cls(config=self.config)
        return self._instances[cls]  # type: ignore[return-value]

    def text(self, s: Setting) -> str:
        return s.type.text(self.values[s.name])

    def variables(self, cls: type[Configurable], *traits: str) -> dict[str, str]:
        """``cls``'s settings (or only ``traits``) as the variables that would give them their
        effective values: for a process that does not read the hub's config file."""
        return {s.name: self.text(s) for s in self.declared if s.owner is cls and (not traits or s.type.name in traits)}

    def rows(self) -> list[dict[str, Any]]:
        """Every setting with its effective value, secrets masked, in the views' order."""
        rows = []
        for s in self.declared:
            value = self.text(s)
            rows.append(
                {
                    "name": s.name,
                    "trait": s.trait,
                    "category": s.category,
                    "description": s.description,
                    "default": s.default,
                    "value": mask(value) if s.secret else value,
                    "allowed": s.allowed(),
                    "secret": s.secret,
                    "source": self.sources[s.name],
                    "is_default": self.values[s.name] == s.parse(s.type.default_value),
                }
            )
        return rows


def mask(value: str) -> str:
    return "********" if value else ""


def load(classes: Iterable[type[Configurable]], env: Mapping[str, str] | None = None, config=None) -> Settings:
    """Every setting of ``classes``: the config file's value when it sets one, else the variable
    (``env``, default the process environment), else the trait's default. Raises ConfigError
    naming every bad value."""
    env = os.environ if env is None else env
    config = Config() if config is None else config
    found = declared(classes)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    problems: list[str] = []
    for s in found:
        given, value = _given(config, s)
        text = env.get(s.name)
        sources[s.name] = "config file" if given else "default" if text is None else "environment"
        try:
            values[s.name] = s.parse(value if given else s.type.default_value if text is None else text)
        except ValueError as exc:
            where = f"c.{s.trait} ({s.name})" if given else s.name
            problems.append(f"{where}: {exc}; allowed: {s.allowed()}")
    if problems:
        raise ConfigError(problems)
    # a copy of each section: the site's configuration itself is left as it was
    effective = Config({k: Config(v) if isinstance(v, dict) else v for k, v in config.items()})
    for s in found:
        effective[s.owner.__name__][s.type.name] = values[s.name]
    return Settings(found, values, sources, effective)


# -- the README's table -------------------------------------------------------------------------


def markdown_table(classes: Iterable[type[Configurable]]) -> str:
    """The README's configuration reference."""
    lines = [
        "| Variable | Traitlet | Default | Allowed | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in declared(classes):
        default = f"`{s.default}`" if s.default else "(empty)"
        lines.append(f"| `{s.name}` | `c.{s.trait}` | {default} | {s.allowed()} | {s.description} |")
    return "\n".join(lines)
