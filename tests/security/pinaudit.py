"""Known vulnerabilities of the pinned requirements: the hub's (constraints.txt) and every image's
under docker/*/ (lock files such as requirements*.txt, constraints*.txt, *.lock, and the
``"name==version"`` pins of a Dockerfile's pip install), audited with pip-audit against PyPI's
advisory data, with exceptions recorded in vulnerability-exceptions.toml (one per advisory id,
with the reason and the date).

pip-audit asks PyPI's JSON API for each pinned release (``/pypi/<name>/<version>/json``). Where
only the project pages are served (``/pypi/<name>/json``, as through some registry mirrors),
pip-audit reports the releases as not found; their advisories are then read from the project
page, which carries them for the project's latest release: a pin of the latest release is fully
audited, an older pin is reported as not audited here (a warning, with the reason).

Run it alone: ``python tests/security/pinaudit.py`` prints the report.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import requests
import tomllib

REPO = Path(__file__).resolve().parents[2]
EXCEPTIONS = REPO / "vulnerability-exceptions.toml"
LOCK_PATTERNS = ("requirements*.txt", "constraints*.txt", "*.lock")
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([A-Za-z0-9.+!_-]+)\s*(?:[;#\\].*)?$")
DOCKERFILE_PIN = re.compile(r"""["']([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([A-Za-z0-9.+!_-]+)["']""")
PYPI = "https://pypi.org/pypi/{name}/json"
NOT_ON_PYPI = "Dependency not found on PyPI"


def canonical(name: str) -> str:
    """A project name as PyPI compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


class AdvisoryDataUnreachable(Exception):
    """PyPI's advisory data could not be read (offline, or PyPI refuses)."""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    source: str  # the file it is pinned in, relative to the repository


@dataclass(frozen=True)
class Finding:
    pin: Pin
    id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]

    def __str__(self) -> str:
        fix = f"fixed in {', '.join(self.fixed_in)}" if self.fixed_in else "no fixed release"
        also = f" ({', '.join(self.aliases)})" if self.aliases else ""
        return f"{self.pin.name}=={self.pin.version} in {self.pin.source}: {self.id}{also}, {fix}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    not_audited: list[tuple[Pin, str]] = field(default_factory=list)
    audited: list[Pin] = field(default_factory=list)


def lock_sources(root: Path = REPO) -> list[Path]:
    """constraints.txt and every lock file or Dockerfile with pins under docker/*/."""
    found = [root / "constraints.txt"]
    for folder in sorted(p for p in (root / "docker").iterdir() if p.is_dir()):
        for pattern in (*LOCK_PATTERNS, "Dockerfile*"):
            found += sorted(folder.glob(pattern))
    return [p for p in found if p.is_file()]


def pins_of(path: Path, root: Path = REPO) -> list[Pin]:
    text = path.read_text()
    source = str(path.relative_to(root))
    if path.name.startswith("Dockerfile"):
        return [Pin(canonical(n), v, source) for n, v in DOCKERFILE_PIN.findall(text)]
    pins = []
    for line in text.splitlines():
        m = PIN.match(line)
        if m:
            pins.append(Pin(canonical(m[1]), m[2], source))
    return pins


def _pip_audit(pins: list[Pin]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("".join(f"{p.name}=={p.version}\n" for p in pins))
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "-r",
                str(req),
                "--no-deps",
                "--disable-pip",
                "-f",
                "json",
                "--progress-spinner",
                "off",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    if proc.returncode not in (0, 1) or not proc.stdout.strip().startswith("{"):
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise AdvisoryDataUnreachable(f"pip-audit could not read PyPI's advisory data: {last[-400:]}")
    return json.loads(proc.stdout)


def _latest_release_advisories(name: str) -> tuple[str, list[dict]]:
    """(the project's latest release, its advisories) from PyPI's project page."""
    try:
        r = requests.get(PYPI.format(name=name), timeout=30)
    except requests.RequestException as exc:
        raise AdvisoryDataUnreachable(f"PyPI's project page of {name} could not be read: {exc}") from None
    if r.status_code != 200:
        raise AdvisoryDataUnreachable(f"PyPI's project page of {name} answered {r.status_code}")
    data = r.json()
    return data["info"]["version"], [v for v in data.get("vulnerabilities") or [] if not v.get("withdrawn")]


def audit(pins: list[Pin]) -> Report:
    """Every pin's known vulnerabilities (pip-audit; PyPI's project pages where it cannot read a
    release). AdvisoryDataUnreachable when neither can be read."""
    report = Report()
    by_source: dict[str, list[Pin]] = {}
    for pin in pins:
        by_source.setdefault(pin.source, []).append(pin)
    fallback: list[Pin] = []
    groups = [{p.name: p for p in group} for group in by_source.values()]  # one version per name and file
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda unique: _pip_audit(list(unique.values())), groups))
    for unique, result in zip(groups, results, strict=True):
        for dep in result["dependencies"]:
            pin = unique[canonical(dep["name"])]
            if "skip_reason" in dep:
                if NOT_ON_PYPI in dep["skip_reason"]:
                    fallback.append(pin)
                else:
                    report.not_audited.append((pin, dep["skip_reason"]))
                continue
            report.audited.append(pin)
            for v in dep.get("vulns", []):
                report.findings.append(
                    Finding(pin, v["id"], tuple(v.get("aliases", [])), tuple(v.get("fix_versions", [])))
                )
    with ThreadPoolExecutor(8) as pool:
        pages = dict(zip(fallback, pool.map(lambda p: _latest_release_advisories(p.name), fallback), strict=True))
    for pin, (latest, advisories) in pages.items():
        if latest != pin.version:
            report.not_audited.append(
                (
                    pin,
                    f"PyPI's advisory data for {pin.version} is not served here "
                    f"(only for the latest release, {latest})",
                )
            )
            continue
        report.audited.append(pin)
        for v in advisories:
            report.findings.append(Finding(pin, v["id"], tuple(v.get("aliases") or ()), tuple(v.get("fixed_in") or ())))
    return report


def load_exceptions(path: Path = EXCEPTIONS) -> dict[str, dict]:
    """Advisory id -> its recorded exception; ValueError naming what is missing or wrong."""
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text()).get("exception", [])
    found = {}
    for i, entry in enumerate(entries, 1):
        for key in ("id", "package", "reason"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise ValueError(f"{path.name}: exception {i} needs a non-empty {key!r}")
        if not isinstance(entry.get("date"), date):
            raise ValueError(f"{path.name}: exception {entry['id']} needs a date (date = 2026-01-31)")
        found[entry["id"]] = entry
    return found


def unexcepted(findings: list[Finding], exceptions: dict[str, dict]) -> list[Finding]:
    """The findings no exception covers (by the advisory's id or one of its aliases, same package)."""
    left = []
    for f in findings:
        names = (f.id, *f.aliases)
        if not any(n in exceptions and canonical(exceptions[n]["package"]) == f.pin.name for n in names):
            left.append(f)
    return left


def main() -> int:
    pins = [p for source in lock_sources() for p in pins_of(source)]
    report = audit(pins)
    problems = unexcepted(report.findings, load_exceptions())
    print(f"{len(report.audited)} of {len(pins)} pins audited")
    for pin, why in report.not_audited:
        print(f"not audited: {pin.name}=={pin.version} in {pin.source}: {why}")
    for f in report.findings:
        print(("VULNERABLE: " if f in problems else "excepted: ") + str(f))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
