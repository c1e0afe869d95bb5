"""The hub's own state as one archive: its database, every store, the cookie secret, the audit
log and whatever else the data directory's top level holds; and putting it back.

An archive is ``jupyterhub_state_<YYYYmmdd-HHMMSS>.tar.gz`` (the volumes' naming, so the target's
listing, retention and generations treat it as one more "volume") holding ``manifest.json`` and
``data/<file>`` for each file. Every SQLite file is copied with SQLite's online backup API in one
step (a read transaction: the copy is the file as of one moment, however busy the hub is), a
store the hub has open through its own connection on its own thread; never as bytes of a live
file. Its ``-wal``/``-shm`` companions are not copied (the backup holds their content), nor pid
files. Subdirectories are not part of it (``certs/`` is a volume of its own in the compose stack).

A PostgreSQL hub database is not in the archive: it is the database operator's to back up (its
own tools, e.g. ``pg_dump`` on their schedule); the manifest says so and ``restore-state`` says
it again. Restoring needs an empty data directory: nothing is ever merged into a hub's files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .store import FILE_NAME as RESULTS_FILE  # the backups' own results

STATE = "jupyterhub_state"  # the archive's "volume" name in the target
FORMAT = 1
MANIFEST = "manifest.json"
DATA = "data"
SKIPPED_SUFFIXES = ("-wal", "-shm", "-journal", ".pid", ".partial", ".tmp")


class StateError(Exception):
    """The archive cannot be restored here (the message says why and what to do)."""


@dataclass(frozen=True)
class Snapshot:
    path: Path  # the .tar.gz, in the staging directory
    fingerprint: str  # of the files' content: equal means nothing changed
    manifest: dict


def is_sqlite(path: Path) -> bool:
    """Whether ``path`` is a SQLite database, asked through SQLite itself. Never by opening the
    file: closing any descriptor of a file drops every POSIX lock this process holds on it, so
    the hub's own open connections would lose theirs (another process may then reset the
    write-ahead log under them, and their later commits vanish)."""
    if path.stat().st_size == 0:
        return False
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return False
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        return True
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def state_files(data_dir: Path) -> list[Path]:
    """The data directory's files that make the hub's state (top level only)."""
    found = []
    for entry in sorted(data_dir.iterdir()):
        if entry.name.startswith(".") or entry.name.endswith(SKIPPED_SUFFIXES):
            continue
        if entry.is_file() and not entry.is_symlink():
            found.append(entry)
    return found


def _sqlite_copy(source: sqlite3.Connection, dest: Path) -> None:
    """One step of the online backup (the whole file under one read transaction), then the copy
    made self-contained: a rollback journal, no write-ahead log beside it."""
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()


def copy_sqlite(path: Path, dest: Path, open_stores: Iterable = ()) -> None:
    """``path`` copied to ``dest`` through SQLite: on the thread of the store that has it open
    (its connection sees its own last commit), else through a connection of its own."""
    resolved = path.resolve()
    store = next((s for s in open_stores if Path(s.path).resolve() == resolved), None)
    if store is not None:
        try:
            store.file.submit(_sqlite_copy, dest).result()
            return
        except RuntimeError:  # closed meanwhile (a hub shutting down): a connection of its own
            pass
    source = sqlite3.connect(f"file:{resolved}?mode=ro", uri=True, timeout=30)
    try:
        _sqlite_copy(source, dest)
    finally:
        source.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def snapshot(
    data_dir: Path,
    staging: Path,
    open_stores: Iterable = (),
    hub_database: dict | None = None,
    volumes: dict[str, str] | None = None,
) -> Snapshot:
    """The hub's state as one .tar.gz in ``staging`` (emptied first). Blocking: run it in a
    worker thread. ``hub_database`` describes the hub's database for the manifest; ``volumes``
    (volume -> its newest archive) tells a restore which volume archives go with it."""
    from .. import datadir

    if staging.exists():
        shutil.rmtree(staging)
    files_dir = staging / DATA
    files_dir.mkdir(parents=True, mode=0o700)
    open_stores = list(open_stores)
    files: dict[str, dict] = {}
    for path in state_files(data_dir):
        dest = files_dir / path.name
        if is_sqlite(path):
            copy_sqlite(path, dest, open_stores)
            kind = "sqlite"
        elif path.stat().st_size == 0:  # not even opened (see is_sqlite)
            dest.touch()
            kind = "file"
        else:
            try:
                shutil.copy2(path, dest)
            except FileNotFoundError:  # gone meanwhile (a rotated log)
                continue
            kind = "file"
        os.chmod(dest, path.stat().st_mode & 0o777 if path.exists() else 0o600)
        files[path.name] = {"kind": kind, "sha256": _sha256(dest), "size": dest.stat().st_size}
    # what counts as a change: any file but the backups' own results (every round writes them),
    # and a new archive of any volume
    counted = [f"{name}\t{info['sha256']}\n" for name, info in sorted(files.items()) if name != RESULTS_FILE]
    counted += [f"volume\t{v}\t{a}\n" for v, a in sorted((volumes or {}).items())]
    fingerprint = hashlib.sha256("".join(counted).encode()).hexdigest()
    layout = datadir.read_layout(data_dir) or {}
    manifest = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "release": datadir.release(),
        "layout": int(layout.get("layout", datadir.LAYOUT)),
        "hub_database": hub_database or {"kind": "sqlite", "included": "jupyterhub.sqlite" in files},
        "files": files,
        "fingerprint": fingerprint,
        "volumes": dict(sorted((volumes or {}).items())),
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    archive = staging / f"{STATE}.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(staging / MANIFEST, arcname=MANIFEST)
        for name in sorted(files):
            tar.add(files_dir / name, arcname=f"{DATA}/{name}")
    shutil.rmtree(files_dir)
    return Snapshot(archive, fingerprint, manifest)


def describe_database(db_url: str, data_dir: Path) -> dict:
    """What the manifest says of the hub's database (never the URL: it may hold a password)."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = Path(url.database or "")
        inside = bool(url.database) and path.resolve().parent == data_dir.resolve()
        return {"kind": "sqlite", "file": path.name, "included": inside}
    return {"kind": backend, "included": False, "note": "backed up by the database's own tools, not here"}


# -- restoring -------------------------------------------------------------------------------------
def read_manifest(archive: Path) -> dict:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            return json.loads(member.read())
    except (OSError, EOFError, zlib.error, tarfile.TarError, KeyError, ValueError) as exc:
        raise StateError(f"{archive} is damaged or not a hub state archive ({exc}); nothing was restored") from None


def restore(archive: Path, data_dir: Path) -> dict:
    """Unpack the state archive into the empty ``data_dir`` and check every file against the
    manifest; the manifest. StateError, with the data directory left as it was, when the
    directory is not empty, the archive is damaged, or a newer release made it."""
    from .. import datadir

    if not archive.is_file():
        raise StateError(f"no such archive: {archive}")
    data_dir.mkdir(parents=True, exist_ok=True)
    present = sorted(p.name for p in data_dir.iterdir() if not p.is_dir())
    if present:
        shown = ", ".join(present[:5]) + (", ..." if len(present) > 5 else "")
        raise StateError(
            f"the data directory {data_dir} is not empty ({shown}): restore-state only restores onto an "
            "empty data directory (move these files away first; nothing was changed)"
        )
    manifest = read_manifest(archive)
    if int(manifest.get("format", 0)) > FORMAT or int(manifest.get("layout", 0)) > datadir.LAYOUT:
        raise StateError(
            f"{archive} was made by a newer release ({manifest.get('release', '?')}, data layout "
            f"{manifest.get('layout')}); this release reads layouts up to {datadir.LAYOUT}: restore it with that release"
        )
    files: dict = manifest.get("files") or {}
    for left in data_dir.glob(".restoring-*"):  # what an interrupted restore left (never a hub file)
        shutil.rmtree(left, ignore_errors=True)
    # unpacked beside the data directory's files, moved in only when everything checked out
    work = Path(tempfile.mkdtemp(prefix=".restoring-", dir=data_dir))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = [m for m in tar.getmembers() if m.name.startswith(f"{DATA}/")]
                for m in members:
                    name = m.name[len(DATA) + 1 :]
                    if not m.isfile() or "/" in name or name not in files:
                        raise StateError(f"{archive}: unexpected entry {m.name!r}; nothing was restored")
                tar.extractall(work, members=members, filter="data")
        except (OSError, EOFError, zlib.error, tarfile.TarError) as exc:
            raise StateError(f"{archive} is damaged ({exc}); nothing was restored") from None
        unpacked = work / DATA
        for name, info in files.items():
            path = unpacked / name
            if not path.is_file() or _sha256(path) != info.get("sha256"):
                raise StateError(f"{archive}: {name} does not match its checksum; nothing was restored")
            if info.get("kind") == "sqlite":
                _check_sqlite(path, archive)
        for name in sorted(files):  # same file system: each a rename
            os.replace(unpacked / name, data_dir / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


def _check_sqlite(path: Path, archive: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        result = str(exc)
    finally:
        conn.close()
    if result != "ok":
        raise StateError(f"{archive}: {path.name} is not a sound SQLite file ({result}); nothing was restored")
