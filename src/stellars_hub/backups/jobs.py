"""The engine work of backups: small shell programs run in throw-away containers (no network)
that mount one user volume and the backup target. Archives are
``<volume>_<YYYYmmdd-HHMMSS>.tar.gz`` exactly as scripts/volume-backup.sh writes them, so
scripts/volume-restore.sh restores them too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..runtime import ContainerRuntime
from ..web.sharedread import SharedReads

# generations beyond the newest $keep of volume $vol are deleted
PRUNE = r"""ls -1 /backup | grep -E "^${vol}_[0-9]{8}-[0-9]{6}\.tar\.gz$" | LC_ALL=C sort | head -n "-$keep" | while read -r old; do
  rm -f "/backup/$old"; echo "pruned $old"
done
"""

# fingerprint of the content (names, sizes, times, modes, owners): equal means nothing changed;
# the previous archive must still be there for a skip
BACKUP = (
    r"""
set -eu
vol=$1 prev=$2 prev_archive=$3 keep=$4 stamp=$5
fp=$(cd /volume && find . -printf '%P %s %T@ %m %U %G %y %l\n' | LC_ALL=C sort | sha256sum | cut -c1-64)
echo "fingerprint $fp"
if [ "$fp" = "$prev" ] && [ -n "$prev_archive" ] && [ -f "/backup/$prev_archive" ]; then
  echo "unchanged"; exit 0
fi
archive="${vol}_${stamp}.tar.gz"
tar --numeric-owner -czf "/backup/$archive.partial" -C /volume .
mv "/backup/$archive.partial" "/backup/$archive"
echo "archive $archive $(stat -c %s "/backup/$archive")"
"""
    + PRUNE
)

# the hub's state: an archive the hub made itself, handed to the tool at /tmp/upload
BACKUP_FILE = (
    r"""
set -eu
vol=$1 keep=$2 stamp=$3
archive="${vol}_${stamp}.tar.gz"
cp /tmp/upload "/backup/$archive.partial"
chmod 600 "/backup/$archive.partial"
mv "/backup/$archive.partial" "/backup/$archive"
echo "archive $archive $(stat -c %s "/backup/$archive")"
"""
    + PRUNE
)
UPLOAD = "/tmp/upload"

LIST = r"""
set -eu
ls -1 /backup | grep -E "^[a-z0-9-]+_[a-z0-9]+_[0-9]{8}-[0-9]{6}\.tar\.gz$" | while read -r f; do
  echo "$f $(stat -c %s "/backup/$f")"
done
"""
LISTING_MAX_AGE = 60  # seconds one listing of the target answers every user's backups page

REMOVE = r"""
set -eu
for vol in "$@"; do
  ls -1 /backup | grep -E "^${vol}_[0-9]{8}-[0-9]{6}\.tar\.gz$" | while read -r f; do
    rm -f "/backup/$f"; echo "removed $f"
  done
done
"""

RESTORE = r"""
set -eu
find /volume -mindepth 1 -delete
tar --numeric-owner -xzpf "/backup/$1" -C /volume
echo "restored $1"
"""

ARCHIVE = re.compile(r"^(?P<volume>[a-z0-9-]+_[a-z0-9]+)_(?P<stamp>\d{8}-\d{6})\.tar\.gz$")


class JobFailed(Exception):
    pass


@dataclass(frozen=True)
class BackupOutcome:
    fingerprint: str
    archive: str | None  # None: unchanged, nothing written
    size_bytes: int | None
    pruned: tuple[str, ...]


class BackupJobs:
    def __init__(self, runtime: ContainerRuntime, image: str, target: str):
        self.runtime = runtime
        self.image = image
        self.target = target  # a Docker volume name or an absolute host path
        # every archive in the target, listed by one throw-away container for all callers
        self._listing = SharedReads(LISTING_MAX_AGE)

    async def backup(
        self, volume: str, prev_fingerprint: str, prev_archive: str, keep: int, stamp: str
    ) -> BackupOutcome:
        result = await self.runtime.run_tool(
            self.image,
            ["sh", "-c", BACKUP, "backup", volume, prev_fingerprint, prev_archive, str(keep), stamp],
            {volume: ("/volume", "ro"), self.target: ("/backup", "rw")},
        )
        if result.exit_code != 0:
            raise JobFailed(_last_line(result.output) or f"the backup container exited with {result.exit_code}")
        fingerprint, archive, size, pruned = "", None, None, []
        for line in result.output.splitlines():
            word, _, rest = line.partition(" ")
            if word == "fingerprint":
                fingerprint = rest.strip()
            elif word == "archive":
                archive, _, size_text = rest.partition(" ")
                size = int(size_text) if size_text.strip().isdigit() else None
            elif word == "pruned":
                pruned.append(rest.strip())
        if not fingerprint:
            raise JobFailed("the backup container gave no fingerprint: " + (_last_line(result.output) or "no output"))
        self._listing.forget(self.target)
        return BackupOutcome(fingerprint, archive, size, tuple(pruned))

    async def backup_file(self, name: str, source: Path, keep: int, stamp: str) -> BackupOutcome:
        """The hub's own file ``source`` into the target as ``<name>_<stamp>.tar.gz`` (mode 0600),
        older generations beyond ``keep`` deleted."""
        result = await self.runtime.run_tool_with_file(
            self.image,
            ["sh", "-c", BACKUP_FILE, "backup-file", name, str(keep), stamp],
            {self.target: ("/backup", "rw")},
            source,
            UPLOAD,
        )
        self._listing.forget(self.target)
        if result.exit_code != 0:
            raise JobFailed(_last_line(result.output) or f"the backup container exited with {result.exit_code}")
        archive, size, pruned = None, None, []
        for line in result.output.splitlines():
            word, _, rest = line.partition(" ")
            if word == "archive":
                archive, _, size_text = rest.partition(" ")
                size = int(size_text) if size_text.strip().isdigit() else None
            elif word == "pruned":
                pruned.append(rest.strip())
        if not archive:
            raise JobFailed("the backup container wrote no archive: " + (_last_line(result.output) or "no output"))
        return BackupOutcome("", archive, size, tuple(pruned))

    async def generations(self, volumes: list[str], fresh: bool = False) -> dict[str, list[dict]]:
        """volume -> its archives in the target, newest first: [{"archive", "time", "size_bytes"}].
        From the target's listing of the last minute (one container lists it for every caller,
        and again after each backup or restore) unless ``fresh``."""
        output = await self._listing.get(self.target, self._list, fresh)
        found: dict[str, list[dict]] = {v: [] for v in volumes}
        for line in output.splitlines():
            name, _, size = line.partition(" ")
            m = ARCHIVE.match(name)
            if m and m["volume"] in found:
                s = m["stamp"]
                found[m["volume"]].append(
                    {
                        "archive": name,
                        "size_bytes": int(size) if size.isdigit() else None,
                        "time": f"{s[0:4]}-{s[4:6]}-{s[6:8]}T{s[9:11]}:{s[11:13]}:{s[13:15]}Z",
                    }
                )
        for items in found.values():
            items.sort(key=lambda g: g["archive"], reverse=True)
        return found

    async def _list(self) -> str:
        result = await self.runtime.run_tool(
            self.image, ["sh", "-c", LIST, "list"], {self.target: ("/backup", "ro")}, timeout=120
        )
        if result.exit_code != 0:
            raise JobFailed(_last_line(result.output) or "listing the backups failed")
        return result.output

    async def remove(self, volumes: list[str]) -> list[str]:
        """Delete every archive of ``volumes`` from the target; the archives removed."""
        result = await self.runtime.run_tool(
            self.image, ["sh", "-c", REMOVE, "remove", *volumes], {self.target: ("/backup", "rw")}, timeout=300
        )
        if result.exit_code != 0:
            raise JobFailed(_last_line(result.output) or "removing the archives failed")
        return [line.split(" ", 1)[1] for line in result.output.splitlines() if line.startswith("removed ")]

    async def restore(self, archive: str, volume: str) -> None:
        result = await self.runtime.run_tool(
            self.image,
            ["sh", "-c", RESTORE, "restore", archive],
            {volume: ("/volume", "rw"), self.target: ("/backup", "ro")},
        )
        self._listing.forget(self.target)
        if result.exit_code != 0:
            raise JobFailed(_last_line(result.output) or f"the restore container exited with {result.exit_code}")


def _last_line(text: str) -> str:
    """The end of a tool's output: tar's cause and its "not recoverable" line come last."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-2:])[-300:]
