"""The README's generated blocks, each between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``.
``python tests/readme.py`` rewrites them all; the test that owns each block fails while it is
stale. A generator is imported only when asked for (the access matrix needs the test folder)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _settings_table() -> str:
    from stellars_hub import settings
    from stellars_hub.features import configurables

    return settings.markdown_table(configurables())


def _access_table() -> str:
    from accessmatrix import markdown_table

    return markdown_table()


def _survival_table() -> str:
    faults = str(Path(__file__).resolve().parent / "faults")
    if faults not in sys.path:
        sys.path.insert(0, faults)
    from survival import markdown_table

    return markdown_table()


def _scenario_exceptions() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent / "scenarios"))
    from marks_table import markdown

    return markdown()


BLOCKS: dict[str, Callable[[], str]] = {
    "settings-table": _settings_table,
    "access-table": _access_table,
    "survival-table": _survival_table,
    "scenario-exceptions": _scenario_exceptions,
}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def block(name: str, text: str | None = None) -> str:
    """The README's block ``name`` as it stands."""
    text = README.read_text(encoding="utf-8") if text is None else text
    start, end = markers(name)
    assert start in text and end in text, f"README lacks the {name} markers"
    return text.split(start, 1)[1].split(end, 1)[0].strip("\n")


def is_current(name: str) -> bool:
    return block(name) == BLOCKS[name]()


def rewrite(names=None) -> None:
    text = README.read_text(encoding="utf-8")
    for name in names or BLOCKS:
        start, end = markers(name)
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{BLOCKS[name]()}\n{end}{tail}"
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":  # python tests/readme.py [block ...]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    rewrite(sys.argv[1:] or None)
