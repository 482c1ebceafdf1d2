"""Validate a revision bundle (a folder, or a .zip/.tar/.tar.gz/.tgz archive) as the agent sees it.

Checks: the appspec is at the bundle root (the agent strips at most one top-level folder, and only
when that folder holds the appspec — explained when it happens), the appspec rules, every `files`
source exists, no two files land on the same path, every hook script exists, and Linux scripts have
a shebang, no CRLF line endings and (a warning) the executable bit. Archives are read in place,
never extracted. Findings about the appspec or a script carry that file's line and column and name
the file in the message; findings about the bundle as a whole are at 1:1.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.validate.appspec import _norm, validate_appspec_text
from wizard.validate.model import ERROR, WARNING, FileReport, Finding, quote, sort_findings

APPSPEC_NAMES = ("appspec.yml", "appspec.yaml")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
IGNORED_TOP = ("__MACOSX",)
MAX_READ = 256 * 1024
MAX_ENTRIES = 200_000


@dataclass
class _Entry:
    path: str  # posix, relative to the bundle root, no trailing slash
    is_dir: bool
    mode: int | None  # permission bits when known


class _Source:
    """A uniform view of a folder or an archive."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}

    def add(self, path: str, is_dir: bool, mode: int | None) -> None:
        path = path.replace("\\", "/").strip("/")
        while path.startswith("./"):
            path = path[2:]
        if not path or path == "." or len(self.entries) >= MAX_ENTRIES:
            return
        self.entries[path] = _Entry(path, is_dir, mode)
        parent = posixpath.dirname(path)
        while parent and parent not in self.entries:  # archives may omit folder entries
            self.entries[parent] = _Entry(parent, True, None)
            parent = posixpath.dirname(parent)

    def read(self, path: str) -> bytes | None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _Folder(_Source):
    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            rel = os.path.relpath(dirpath, root)
            for d in dirnames:
                self.add(posixpath.join(rel, d) if rel != "." else d, True, None)
            for f in filenames:
                full = os.path.join(dirpath, f)
                try:
                    mode = os.lstat(full).st_mode & 0o7777
                except OSError:
                    mode = None
                self.add(posixpath.join(rel, f) if rel != "." else f, False, mode)
            if len(self.entries) >= MAX_ENTRIES:
                break

    def read(self, path: str) -> bytes | None:
        try:
            with open(self.root / path, "rb") as fh:
                return fh.read(MAX_READ)
        except OSError:
            return None


class _Zip(_Source):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.zf = zipfile.ZipFile(path)
        for info in self.zf.infolist():
            mode = (info.external_attr >> 16) & 0o7777 if info.create_system == 3 else None
            self.add(info.filename, info.is_dir(), mode or None)
        self.names = {i.filename.replace("\\", "/").strip("/"): i for i in self.zf.infolist()}

    def read(self, path: str) -> bytes | None:
        info = self.names.get(path) or self.names.get("./" + path)
        if info is None or info.is_dir():
            return None
        with self.zf.open(info) as fh:
            return fh.read(MAX_READ)

    def close(self) -> None:
        self.zf.close()


class _Tar(_Source):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.tf = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by close()
        self.members: dict[str, tarfile.TarInfo] = {}
        for m in self.tf.getmembers():
            self.add(m.name, m.isdir(), m.mode & 0o7777)
            self.members[m.name.strip("/").removeprefix("./")] = m

    def read(self, path: str) -> bytes | None:
        m = self.members.get(path)
        if m is None or not m.isfile():
            return None
        fh = self.tf.extractfile(m)
        return fh.read(MAX_READ) if fh else None

    def close(self) -> None:
        self.tf.close()


def is_archive(path: str | os.PathLike[str]) -> bool:
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def _open(path: Path) -> tuple[_Source | None, list[Finding]]:
    if path.is_dir():
        return _Folder(path), []
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        return None, [Finding(1, 1, ERROR, "bundle.unreadable", f"cannot read: {exc.strerror}")]
    name = path.name.lower()
    findings: list[Finding] = []
    kind = "zip" if head[:2] == b"PK" else "gzip" if head[:2] == b"\x1f\x8b" else None
    if kind is None and len(head) >= 262 and head[257:262] == b"ustar":
        kind = "tar"
    expected = "zip" if name.endswith(".zip") else "gzip" if name.endswith(("gz", "tgz")) else "tar"
    if kind is None:
        return None, [
            Finding(
                1,
                1,
                ERROR,
                "bundle.archive",
                f"not a zip, tar or tar.gz archive (the agent fails with 'Error extracting "
                f"{'zip' if expected == 'zip' else 'tar'} archive')",
            )
        ]
    if kind != expected:
        findings.append(
            Finding(
                1,
                1,
                ERROR,
                "bundle.archive",
                f"the name says {expected} but the content is {kind}: the deployment's bundleType "
                "must match the content or extraction fails",
            )
        )
    try:
        return (_Zip(path) if kind == "zip" else _Tar(path)), findings
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError) as exc:
        return None, [*findings, Finding(1, 1, ERROR, "bundle.archive", f"corrupt archive: {exc}")]


def validate_bundle(path: str | os.PathLike[str]) -> FileReport:
    """One report for a bundle folder or archive. Never raises."""
    p = Path(path)
    report = FileReport(str(path), "bundle")
    if not p.exists():
        report.unreadable = True
        report.findings.append(Finding(1, 1, ERROR, "bundle.unreadable", "no such file or folder"))
        return report
    src: _Source | None = None
    try:
        src, findings = _open(p)
        report.findings += findings
        if src is not None:
            report.findings += _check(src, is_folder=p.is_dir())
    except Exception as exc:  # never crash a validation run
        report.findings.append(
            Finding(1, 1, ERROR, "bundle.unreadable", f"could not be checked ({quote(exc)})")
        )
    finally:
        if src is not None:
            src.close()
    report.findings = sort_findings(report.findings)
    return report


def _check(src: _Source, *, is_folder: bool) -> list[Finding]:
    out: list[Finding] = []
    prefix = ""
    appspec = next((n for n in APPSPEC_NAMES if n in src.entries), None)
    if appspec is None:
        top = {e.split("/", 1)[0] for e in src.entries} - set(IGNORED_TOP)
        nested = [
            f"{t}/{n}"
            for t in sorted(top)
            for n in APPSPEC_NAMES
            if f"{t}/{n}" in src.entries and src.entries[t].is_dir
        ]
        if len(top) == 1 and nested and not is_folder:
            prefix = next(iter(top)) + "/"
            appspec = nested[0]
            out.append(
                Finding(
                    1,
                    1,
                    WARNING,
                    "bundle.top-level-folder",
                    f"everything is inside the folder {quote(prefix)}: the agent strips that one "
                    "top-level folder because it holds the appspec, so this works; zipping the "
                    "folder's contents instead avoids the surprise",
                )
            )
        else:
            deeper = sorted(e for e in src.entries if posixpath.basename(e) in APPSPEC_NAMES)
            where = f" (found {quote(deeper[0])}" if deeper else ""
            if deeper:
                where += (
                    ": point at that folder instead)"
                    if is_folder
                    else ": the agent strips at most one top-level folder, and only when it is "
                    "the only entry)"
                )
            out.append(
                Finding(
                    1,
                    1,
                    ERROR,
                    "bundle.appspec-missing",
                    "no appspec.yml at the bundle root; the deployment fails with 'did not find "
                    f"an AppSpec file within the unpacked revision directory'{where}",
                )
            )
            return out
    raw = src.read(appspec) or b""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        out.append(Finding(1, 1, ERROR, "appspec.encoding", f"{appspec}: not UTF-8 text"))
        return out
    res = validate_appspec_text(text, appspec)
    for f in res.findings:
        out.append(Finding(f.line, f.column, f.severity, f.rule, f"{appspec}: {f.message}"))
    if res.platform != "server" or not isinstance(res.data, dict):
        return out
    os_name = res.data.get("os") if res.data.get("os") in ("linux", "windows") else None
    file_findings, finals = _check_files(src, res.data, prefix, os_name, appspec)
    out += file_findings
    if os_name == "linux":
        out += _check_file_permissions(res.data, finals, appspec)
    out += _check_scripts(src, res.data, prefix, os_name, appspec)
    return out


def _lookup(src: _Source, prefix: str, rel: str, os_name: str | None) -> _Entry | None:
    if rel == "":
        return _Entry(prefix.rstrip("/"), True, None)
    key = prefix + rel
    hit = src.entries.get(key)
    if hit is None and os_name == "windows":
        lowered = key.lower()
        hit = next((e for p, e in src.entries.items() if p.lower() == lowered), None)
    return hit


def _check_files(
    src: _Source, data: dict, prefix: str, os_name: str | None, appspec: str
) -> tuple[list[Finding], set[str]]:
    """Findings about `files`, and the final path of every file the Install event writes."""
    out: list[Finding] = []
    files = data.get("files")
    if not isinstance(files, list):
        return out, set()
    landing: dict[str, str] = {}
    for entry in files:
        if not isinstance(entry, dict):
            continue
        source, dest = entry.get("source"), entry.get("destination")
        if not isinstance(source, str) or not isinstance(dest, str):
            continue
        rel = _norm(source, os_name)
        hit = _lookup(src, prefix, rel, os_name)
        if hit is None:
            out.append(
                Finding(
                    1,
                    1,
                    ERROR,
                    "bundle.files-source",
                    f"{appspec}: files source {quote(source)} is not in the bundle (the Install "
                    "event fails with 'No such file or directory')",
                )
            )
            continue
        base = (prefix + rel).strip("/")
        if hit.is_dir:
            under = [
                e.path[len(base) + 1 :] if base else e.path
                for e in src.entries.values()
                if not e.is_dir and (not base or e.path.startswith(base + "/"))
            ]
        else:
            under = [posixpath.basename(rel)]
        droot = dest.replace("\\", "/").rstrip("/")
        for r in under:
            final = f"{droot}/{r}"
            key = final.lower() if os_name == "windows" else final
            if key in landing and landing[key] != source:
                out.append(
                    Finding(
                        1,
                        1,
                        ERROR,
                        "bundle.files-duplicate",
                        f"{appspec}: {final} would be written by both {quote(landing[key])} and "
                        f"{quote(source)}; the agent refuses two files for one path",
                    )
                )
                break
            landing.setdefault(key, source)
    return out, set(landing)


def _check_file_permissions(data: dict, finals: set[str], appspec: str) -> list[Finding]:
    """A permissions entry whose object is one copied file takes no pattern, except or d: ACLs."""
    out: list[Finding] = []
    perms = data.get("permissions")
    if not isinstance(perms, list):
        return out
    for perm in perms:
        if not isinstance(perm, dict) or not isinstance(perm.get("object"), str):
            continue
        obj = perm["object"].rstrip("/")
        if obj not in finals:
            continue
        problems = []
        if perm.get("pattern") not in (None, "**"):
            problems.append(f"pattern {quote(perm.get('pattern'))} (must be ** or left out)")
        if perm.get("except"):
            problems.append("except")
        acls = perm.get("acls")
        if isinstance(acls, list) and any(
            isinstance(a, str) and a.startswith(("d:", "default:")) for a in acls
        ):
            problems.append("default (d:) ACLs")
        if problems:
            out.append(
                Finding(
                    1,
                    1,
                    ERROR,
                    "bundle.permissions-file",
                    f"{appspec}: permissions object {obj} is a single file, so it takes no "
                    + ", no ".join(problems),
                )
            )
    return out


def _check_scripts(
    src: _Source, data: dict, prefix: str, os_name: str | None, appspec: str
) -> list[Finding]:
    out: list[Finding] = []
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return out
    seen: set[str] = set()
    for event, scripts in hooks.items():
        if not isinstance(scripts, list):
            continue
        for s in scripts:
            loc = s.get("location") if isinstance(s, dict) else None
            if not isinstance(loc, str) or not loc.strip():
                continue
            rel = _norm(loc, os_name)
            if rel in seen:
                continue
            seen.add(rel)
            hit = _lookup(src, prefix, rel, os_name)
            if hit is None or hit.is_dir:
                out.append(
                    Finding(
                        1,
                        1,
                        ERROR,
                        "bundle.script-missing",
                        f"{appspec}: {event} script {quote(loc)} is not in the bundle "
                        "(ScriptMissing: 'Script does not exist at specified location')",
                    )
                )
                continue
            if os_name == "windows":
                continue
            out += _script_findings(src, hit, event)
    return out


def _script_findings(src: _Source, entry: _Entry, event: str) -> list[Finding]:
    out: list[Finding] = []
    data = src.read(entry.path) or b""
    name = entry.path
    if data.startswith(b"\x7fELF"):
        return out
    if not data.startswith(b"#!"):
        out.append(
            Finding(
                1,
                1,
                ERROR,
                "bundle.script-shebang",
                f"{name}: no shebang line (e.g. #!/bin/bash): the agent cannot execute it "
                "(ScriptFailed, exit 126/127)",
            )
        )
    if b"\r\n" in data:
        line = data[: data.index(b"\r\n")].count(b"\n") + 1
        out.append(
            Finding(
                line,
                1,
                ERROR,
                "bundle.script-crlf",
                f"{name}: Windows (CRLF) line endings: it fails with 'bad interpreter: ^M' or "
                "'$'\\r': command not found'; convert to LF (dos2unix)",
            )
        )
    if entry.mode is not None and not entry.mode & stat.S_IXUSR:
        out.append(
            Finding(
                1,
                1,
                WARNING,
                "bundle.script-not-executable",
                f"{name}: not executable (mode {entry.mode:o}); the agent adds the bit itself, "
                f"but on a noexec or read-only mount {event} fails with ScriptNotExecutable",
            )
        )
    return out


def describe(path: Any) -> str:
    return "bundle archive" if is_archive(path) else "bundle folder"
