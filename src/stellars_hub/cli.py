"""``stellars-hub``: run the hub with the project's configuration, or check the environment."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import settings as settings_mod


def _config_path(given: str | None) -> Path:
    for candidate in (given, os.environ.get("STELLARS_HUB_CONFIG"), "jupyterhub_config.py", "/srv/jupyterhub/jupyterhub_config.py"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    raise SystemExit("stellars-hub: no jupyterhub_config.py found; pass --config PATH")


def check(env=None, out=sys.stdout) -> int:
    """Print the effective settings (secrets masked); 2 when any is invalid."""
    try:
        s = settings_mod.load(env)
    except settings_mod.ConfigError as exc:
        print(f"stellars-hub: {exc}", file=sys.stderr)
        return 2
    width = max(len(r["name"]) for r in s.rows())
    category = None
    for row in s.rows():
        if row["category"] != category:
            category = row["category"]
            print(f"[{category}]", file=out)
        print(f"  {row['name']:<{width}}  {row['value']}", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(prog="stellars-hub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run JupyterHub (arguments after -- go to jupyterhub)")
    run.add_argument("--config", help="jupyterhub_config.py to use (default: ./jupyterhub_config.py)")
    sub.add_parser("check", help="validate the environment and print the effective settings")
    args = parser.parse_args(argv)

    if args.command == "check":
        return check()
    try:
        settings_mod.load()
    except settings_mod.ConfigError as exc:
        print(f"stellars-hub: {exc}", file=sys.stderr)
        return 2
    config = _config_path(args.config)
    cmd = [sys.executable, "-m", "jupyterhub", "-f", str(config), *extra]
    os.execv(sys.executable, cmd)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
