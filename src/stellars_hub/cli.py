"""``stellars-hub``: run the hub with the platform's configuration, check the settings, list
every setting as a traitlet, or restore a hub's state from a scheduled backup."""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

from . import settings as settings_mod
from .features import configurables

PACKAGE_CONFIG = Path(__file__).with_name("jupyterhub_config.py")


def _site_config(given: str | None) -> Path | None:
    """The site's config file (--config, else STELLARS_HUB_CONFIG), or None for none."""
    path = given or os.environ.get("STELLARS_HUB_CONFIG")
    if not path:
        return None
    site = Path(path)
    if not site.is_file():
        raise SystemExit(f"stellars-hub: the site config file {path} does not exist")
    return site.resolve()


def load_site_config(site: Path | None):
    """The traitlets Config a site's file sets (empty without one)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    if site is None:
        return Config()
    return PyFileConfigLoader(site.name, path=str(site.parent)).load_config()


def check(env=None, out=None, site: Path | None = None) -> int:
    """Print the effective settings, each with its traitlet and where its value came from
    (secrets masked); 2 when any is invalid."""
    out = out or sys.stdout  # looked up now: tests capture it after the import
    try:
        s = settings_mod.load(configurables(), env, config=load_site_config(site))
    except settings_mod.ConfigError as exc:
        print(f"stellars-hub: {exc}", file=sys.stderr)
        return 2
    rows = s.rows()
    width = max(len(r["name"]) for r in rows)
    trait_width = max(len(r["trait"]) for r in rows) + 2
    category = None
    for row in rows:
        if row["category"] != category:
            category = row["category"]
            print(f"[{category}]", file=out)
        print(
            f"  {row['name']:<{width}}  {'c.' + row['trait']:<{trait_width}}  {row['value']}  ({row['source']})",
            file=out,
        )
    return 0


def help_all(out=None) -> int:
    """Every setting as a traitlet, with its help text and environment variable."""
    out = out or sys.stdout
    print(
        "Stellars JupyterHub DS settings. Set them in a config file (c.Class.trait = value) or by\n"
        "the environment variable each names; the config file wins. `jupyterhub --help-all`\n"
        "lists JupyterHub's own options.\n",
        file=out,
    )
    for cls in configurables():
        print(cls.class_get_help(), file=out)
    return 0


def settings_command(argv: list[str]) -> int:
    """``stellars-hub settings [--default NAME]``: print the README's settings table, or one
    setting's default (as its variable would hold it)."""
    classes = configurables()
    if argv[:1] == ["--default"] and len(argv) == 2:
        match = [s for s in settings_mod.declared(classes) if s.name == argv[1]]
        if not match:
            print(f"no setting {argv[1]}", file=sys.stderr)
            return 1
        print(match[0].default)
    else:
        print(settings_mod.markdown_table(classes))
    return 0


def restore_state(archive: str, data_dir: str | None, site: Path | None, out=None) -> int:
    """Put a hub's state archive (a scheduled backup's ``jupyterhub_state_*.tar.gz``) into an
    empty data directory; list the volumes' archives that go with it."""
    out = out or sys.stdout
    from .backups import hubstate
    from .hubsettings import StellarsHub

    if data_dir is None:
        try:
            data_dir = settings_mod.load(configurables(), config=load_site_config(site))(StellarsHub).data_dir
        except settings_mod.ConfigError as exc:
            print(f"stellars-hub: {exc}", file=sys.stderr)
            return 2
    target = Path(data_dir)
    try:
        manifest = hubstate.restore(Path(archive), target)
    except hubstate.StateError as exc:
        print(f"stellars-hub restore-state: {exc}", file=sys.stderr)
        return 1
    files = manifest.get("files") or {}
    print(
        f"restored the hub's state of {manifest.get('created')} (release {manifest.get('release')}) into "
        f"{target}: {len(files)} files ({', '.join(sorted(files))})",
        file=out,
    )
    db = manifest.get("hub_database") or {}
    if not db.get("included"):
        print(
            f"the hub's database ({db.get('kind', '?')}) is not in this archive: restore it from that "
            "database's own backup before the hub starts",
            file=out,
        )
    volumes = manifest.get("volumes") or {}
    if volumes:
        print(
            "the volumes' archives of that backup round (each restores with scripts/volume-restore.sh "
            "TARGET/ARCHIVE VOLUME; a user's volume also from /hub/manage/<user> once the hub runs):",
            file=out,
        )
        for volume, name in volumes.items():
            print(f"  {volume}  {name}", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    if argv[:1] == ["--help-all"]:
        return help_all()
    if argv[:1] == ["settings"]:
        return settings_command(argv[1:])
    parser = argparse.ArgumentParser(
        prog="stellars-hub", description=__doc__, epilog="--help-all lists every setting as a traitlet"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run JupyterHub (arguments after -- go to jupyterhub)")
    run.add_argument(
        "--config",
        help="a site config file loaded on top of the platform's own "
        "(default: $STELLARS_HUB_CONFIG; none: the platform's configuration alone)",
    )
    chk = sub.add_parser("check", help="validate the settings and print the effective values")
    chk.add_argument("--config", help="the site config file to read as the hub would")
    rst = sub.add_parser(
        "restore-state",
        help="restore a hub's state archive (a scheduled backup's jupyterhub_state_*.tar.gz) onto an empty data directory",
    )
    rst.add_argument("archive", help="the jupyterhub_state_<YYYYmmdd-HHMMSS>.tar.gz to restore")
    rst.add_argument("--data-dir", help="the empty data directory to restore into (default: JUPYTERHUB_DATA_DIR)")
    rst.add_argument("--config", help="the site config file to read the data directory from")
    sub.add_parser("help-all", help="list every setting as a traitlet (same as --help-all)")
    sub.add_parser("settings", help="the README's settings table, or --default NAME one setting's default")
    args = parser.parse_args(argv)

    if args.command == "help-all":
        return help_all()
    site = _site_config(args.config)
    if args.command == "restore-state":
        return restore_state(args.archive, args.data_dir, site)
    if args.command == "check":
        return check(site=site)
    if check(out=io.StringIO(), site=site) != 0:
        return 2
    env = dict(os.environ)
    if site is not None:
        env["STELLARS_HUB_CONFIG"] = str(site)
    else:
        env.pop("STELLARS_HUB_CONFIG", None)
    cmd = [sys.executable, "-m", "jupyterhub", "-f", str(PACKAGE_CONFIG), *extra]
    os.execve(sys.executable, cmd, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
