"""Validate a revision bundle (a folder, or a .zip/.tar/.tar.gz/.tgz archive) as the agent sees it.

Checks: the appspec is at the bundle root (the agent strips at most one top-level folder, and only
when that folder holds the appspec — explained when it happens), the appspec rules, every `files`
source exists, no two files land on the same path, every hook script exists, and Linux scripts have
a shebang, no CRLF line endings and (a warning) the executable bit.

An archive is untrusted input: the agent unpacks it as root (`unzip -qo`, `tar -xpsf`:
aws-codedeploy-agent lib/instance_agent/platform/linux_util.rb) and Install then copies what the
entries point to (installer.rb follows links with File.directory?/FileUtils.cp). So entries that
climb out with `..` or are absolute, links that point outside the bundle, devices/FIFOs and names
given twice are errors (`bundle.unsafe-path`, `bundle.symlink-outside`, `bundle.special-file`,
`bundle.duplicate-entry`); a bundle folder with such links or special files is refused the same
way, naming the path. Nothing is ever extracted to disk: archives are read in place, folders are
listed with lstat and only regular files inside the folder are opened.

Findings in a file of the bundle carry that file (`Finding.file`) and its line and column; findings
about the bundle as a whole are at 1:1 without a file.
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

from wizard.validate.appspec import AppspecResult, _norm, validate_appspec_text
from wizard.validate.model import (
    ERROR,
    REJECTS,
    WARNING,
    FileReport,
    Finding,
    quote,
    sort_findings,
)

APPSPEC_NAMES = ("appspec.yml", "appspec.yaml")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
IGNORED_TOP = ("__MACOSX",)
MAX_READ = 256 * 1024
MAX_ENTRIES = 200_000
MAX_LINK = 4096  # a link target longer than PATH_MAX is not a target
MAX_SAFETY_FINDINGS = 20


@dataclass
class _Entry:
    path: str  # posix, relative to the bundle root, no trailing slash
    is_dir: bool
    mode: int | None  # permission bits when known
    kind: str = "file"  # file | dir | link | special


def _special_name(mode: int) -> str | None:
    """'a device', 'a FIFO', 'a socket' for those file types, else None."""
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return None


def link_escapes(entry: str, target: str) -> str | None:
    """Why a symbolic link at `entry` (bundle-relative) pointing to `target` leaves the bundle,
    or None when it stays inside."""
    if not target:
        return "an empty target"
    if target.startswith(("/", "\\")) or (len(target) > 1 and target[1] == ":"):
        return f"the absolute path {target}, which on the instance is outside the revision"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(entry), target))
    if resolved == ".." or resolved.startswith("../"):
        return f"{target}, outside the bundle"
    return None


class _Source:
    """A uniform view of a folder or an archive."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.safety: list[Finding] = []

    def unsafe(self, rule: str, message: str) -> None:
        if len(self.safety) < MAX_SAFETY_FINDINGS:
            self.safety.append(Finding(1, 1, ERROR, rule, message))

    def check_name(self, raw: str) -> str | None:
        """The bundle-relative path of an archive entry, or None (with a finding) when the name
        is absolute or climbs out with `..`."""
        name = raw.replace("\\", "/")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if name.startswith("/") or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
            self.unsafe(
                "bundle.unsafe-path",
                f"archive entry {quote(raw)} is an absolute path: unpacking it would write "
                "outside the deployment folder (tar as root) or it is silently rewritten "
                "(unzip); archives must hold relative paths",
            )
            return None
        if ".." in parts:
            self.unsafe(
                "bundle.unsafe-path",
                f"archive entry {quote(raw)} climbs out with '..': unpacking it as root would "
                "write outside the deployment folder; archives must not contain '..'",
            )
            return None
        return "/".join(parts)

    def add(self, path: str, is_dir: bool, mode: int | None, kind: str = "file") -> None:
        path = path.replace("\\", "/").strip("/")
        while path.startswith("./"):
            path = path[2:]
        if not path or path == "." or len(self.entries) >= MAX_ENTRIES:
            return
        self.entries[path] = _Entry(path, is_dir, mode, kind)
        parent = posixpath.dirname(path)
        while parent and parent not in self.entries:  # archives may omit folder entries
            self.entries[parent] = _Entry(parent, True, None, "dir")
            parent = posixpath.dirname(parent)

    def read(self, path: str) -> bytes | None:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _deploy_exclusions() -> Any:
    """What `wizard deploy` leaves out of a bundle (`wizard.deploy.bundle.is_excluded`), so a
    folder is checked as the revision deploy would build from it; `.git` alone without it."""
    try:
        from wizard.deploy.bundle import is_excluded

        return is_excluded
    except ImportError:  # pragma: no cover - the deploy package is part of the wizard
        return lambda name, is_dir: name == ".git"


class _Folder(_Source):
    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.real_root = os.path.realpath(root)
        excluded = _deploy_exclusions()
        for dirpath, dirnames, filenames in os.walk(root):  # never follows links to folders
            dirnames[:] = sorted(d for d in dirnames if not excluded(d, True))
            rel = os.path.relpath(dirpath, root)
            for name in [*dirnames, *sorted(f for f in filenames if not excluded(f, False))]:
                full = os.path.join(dirpath, name)
                relpath = posixpath.join(rel.replace(os.sep, "/"), name) if rel != "." else name
                self._add_path(full, relpath)
            if len(self.entries) >= MAX_ENTRIES:
                break

    def _add_path(self, full: str, relpath: str) -> None:
        try:
            st = os.lstat(full)
        except OSError:
            return
        if stat.S_ISLNK(st.st_mode):
            try:
                target = os.readlink(full)
            except OSError:
                target = ""
            why = link_escapes(relpath, target)
            if why:
                self.unsafe(
                    "bundle.symlink-outside",
                    f"{relpath} is a symbolic link to {why}: a revision must be self-contained "
                    "(the agent's Install copies whatever the link points to on the instance); "
                    "replace the link with the files, or drop it",
                )
            real = os.path.realpath(full)
            is_dir = os.path.isdir(real) and not why
            self.add(relpath, is_dir, None, "link")
            return
        special = _special_name(st.st_mode)
        if special:
            self.unsafe(
                "bundle.special-file",
                f"{relpath} is {special}: it cannot be part of a revision (never read here); "
                "remove it from the bundle folder",
            )
            return
        if stat.S_ISDIR(st.st_mode):
            self.add(relpath, True, None, "dir")
        else:
            self.add(relpath, False, st.st_mode & 0o7777, "file")

    def read(self, path: str) -> bytes | None:
        """Up to MAX_READ bytes of a regular file inside the folder (links followed only when
        they stay inside); None for anything else, so a FIFO never blocks."""
        full = os.path.join(self.root, path)
        real = os.path.realpath(full)
        if real != self.real_root and not real.startswith(self.real_root + os.sep):
            return None
        try:
            if not stat.S_ISREG(os.stat(real).st_mode):
                return None
            with open(real, "rb") as fh:
                return fh.read(MAX_READ)
        except OSError:
            return None


class _Zip(_Source):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.zf = zipfile.ZipFile(path)
        self.names: dict[str, zipfile.ZipInfo] = {}
        encrypted = False
        for info in self.zf.infolist()[:MAX_ENTRIES]:
            name = self.check_name(info.filename)
            if name is None:
                continue
            if name in self.names and name:
                self.unsafe(
                    "bundle.duplicate-entry",
                    f"{name} is in the archive twice: which copy lands on the instance depends "
                    "on the unpacker (unzip -o keeps the last)",
                )
            unix = (info.external_attr >> 16) if info.create_system == 3 else 0
            kind = "dir" if info.is_dir() else "file"
            if info.flag_bits & 0x1 and not encrypted:
                encrypted = True
                self.safety.append(
                    Finding(
                        1,
                        1,
                        ERROR,
                        "bundle.archive",
                        f"{name} is encrypted (password-protected zip): the agent's unzip "
                        "cannot unpack it; zip the bundle without a password",
                    )
                )
            if unix and stat.S_ISLNK(unix) and not info.flag_bits & 0x1:
                kind = "link"
                target = self.zf.read(info)[:MAX_LINK].decode("utf-8", "replace")
                why = link_escapes(name, target)
                if why:
                    self.unsafe(
                        "bundle.symlink-outside",
                        f"{name} is a symbolic link to {why}: unzip recreates the link and "
                        "Install copies whatever it points to on the instance",
                    )
            elif unix and _special_name(unix):
                kind = "special"
                self.unsafe(
                    "bundle.special-file",
                    f"{name} is {_special_name(unix)} in the archive: a revision holds files, "
                    "folders and links only",
                )
            self.names[name] = info
            if name:
                self.add(name, info.is_dir(), (unix & 0o7777) or None, kind)

    def read(self, path: str) -> bytes | None:
        info = self.names.get(path)
        entry = self.entries.get(path)
        if info is None or info.is_dir() or entry is None or entry.kind != "file":
            return None
        if info.flag_bits & 0x1:  # encrypted: no password here, and none on the instance
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
        for count, m in enumerate(self.tf):
            if count >= MAX_ENTRIES:
                break
            name = self.check_name(m.name)
            if name is None:
                continue
            if name in self.members and name:
                self.unsafe(
                    "bundle.duplicate-entry",
                    f"{name} is in the archive twice: tar unpacks both, the last one wins",
                )
            kind = "dir" if m.isdir() else "file"
            if m.issym():
                kind = "link"
                why = link_escapes(name, m.linkname)
                if why:
                    self.unsafe(
                        "bundle.symlink-outside",
                        f"{name} is a symbolic link to {why}: tar recreates the link and "
                        "Install copies whatever it points to on the instance",
                    )
            elif m.islnk():
                kind = "link"
                target = m.linkname.replace("\\", "/")
                if target.startswith("/") or ".." in target.split("/"):
                    self.unsafe(
                        "bundle.symlink-outside",
                        f"{name} is a hard link to {target}, outside the bundle: tar as root "
                        "links a file of the instance into the deployment",
                    )
            elif m.isdev():
                kind = "special"
                what = "a FIFO (named pipe)" if m.isfifo() else "a device"
                self.unsafe(
                    "bundle.special-file",
                    f"{name} is {what} in the archive: tar as root creates it on the instance; "
                    "a revision holds files, folders and links only",
                )
            self.members[name] = m
            if name:
                self.add(name, m.isdir(), m.mode & 0o7777, kind)

    def read(self, path: str) -> bytes | None:
        m = self.members.get(path)
        if m is None or not m.isfile():
            return None
        fh = self.tf.extractfile(m)  # a file object over the archive, nothing written to disk
        return fh.read(MAX_READ) if fh else None

    def close(self) -> None:
        self.tf.close()


def is_archive(path: str | os.PathLike[str]) -> bool:
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def _open(path: Path) -> tuple[_Source | None, list[Finding]]:
    if path.is_dir():
        return _Folder(path), []
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            what = _special_name(st.st_mode) or "not a regular file"
            return None, [Finding(1, 1, ERROR, "bundle.unreadable", f"cannot read: {what}")]
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
    except RuntimeError as exc:  # zipfile: an encrypted entry needs a password
        return None, [
            *findings,
            Finding(1, 1, ERROR, "bundle.archive", f"cannot be read: {str(exc).splitlines()[0]}"),
        ]


def validate_bundle(path: str | os.PathLike[str]) -> FileReport:
    """One report for a bundle folder or archive. Never raises; never writes to disk."""
    from wizard.fileio import unreadable_reason

    p = Path(path)
    report = FileReport(str(path), "bundle")
    problem = unreadable_reason(p)
    if problem is not None:  # the same verdict as for any other path (wizard.validate.dispatch)
        report.unreadable = True
        report.findings.append(Finding(1, 1, ERROR, "validate.unreadable", problem))
        return report
    src: _Source | None = None
    try:
        src, findings = _open(p)
        report.findings += findings
        if src is not None:
            report.findings += src.safety
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


def _at(res: AppspecResult, appspec: str, rule: str, message: str, *path: str | int) -> Finding:
    """An error at a place in the appspec."""
    return Finding(*res.position(*path), ERROR, rule, message, file=appspec)


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
                    agent=REJECTS,
                )
            )
            return out
    raw = src.read(appspec)
    if raw is None:
        out.append(
            Finding(
                1,
                1,
                ERROR,
                "bundle.unreadable",
                f"{appspec} is not a regular file in the bundle (a link, a folder or unreadable)",
                file=appspec,
            )
        )
        return out
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        out.append(Finding(1, 1, ERROR, "appspec.encoding", "not UTF-8 text", file=appspec))
        return out
    res = validate_appspec_text(text, appspec)
    for f in res.findings:
        out.append(Finding(f.line, f.column, f.severity, f.rule, f.message, f.agent, appspec))
    if res.platform != "server" or not isinstance(res.data, dict):
        return out
    os_name = res.data.get("os") if res.data.get("os") in ("linux", "windows") else None
    file_findings, finals = _check_files(src, res, prefix, os_name, appspec)
    out += file_findings
    if os_name == "linux":
        out += _check_file_permissions(res, finals, appspec)
    out += _check_scripts(src, res, prefix, os_name, appspec)
    return out


def _lookup(src: _Source, prefix: str, rel: str, os_name: str | None) -> _Entry | None:
    if rel == "":
        return _Entry(prefix.rstrip("/"), True, None, "dir")
    key = prefix + rel
    hit = src.entries.get(key)
    if hit is None and os_name == "windows":
        lowered = key.lower()
        hit = next((e for p, e in src.entries.items() if p.lower() == lowered), None)
    return hit


def _check_files(
    src: _Source, res: AppspecResult, prefix: str, os_name: str | None, appspec: str
) -> tuple[list[Finding], set[str]]:
    """Findings about `files`, and the final path of every file the Install event writes."""
    out: list[Finding] = []
    files = res.data.get("files")
    if not isinstance(files, list):
        return out, set()
    landing: dict[str, str] = {}
    for i, entry in enumerate(files):
        if not isinstance(entry, dict):
            continue
        source, dest = entry.get("source"), entry.get("destination")
        if not isinstance(source, str) or not isinstance(dest, str):
            continue
        rel = _norm(source, os_name)
        hit = _lookup(src, prefix, rel, os_name)
        if hit is None:
            out.append(
                _at(
                    res,
                    appspec,
                    "bundle.files-source",
                    f"files source {quote(source)} is not in the bundle (the Install event fails "
                    "with 'No such file or directory')",
                    "files",
                    i,
                    "source",
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
                    _at(
                        res,
                        appspec,
                        "bundle.files-duplicate",
                        f"{final} would be written by both {quote(landing[key])} and "
                        f"{quote(source)}; the agent refuses two files for one path",
                        "files",
                        i,
                    )
                )
                break
            landing.setdefault(key, source)
    return out, set(landing)


def _check_file_permissions(res: AppspecResult, finals: set[str], appspec: str) -> list[Finding]:
    """A permissions entry whose object is one copied file takes no pattern, except or d: ACLs
    (aws-codedeploy-agent application_specification/linux_permission_info.rb,
    validate_file_permission and validate_file_acl)."""
    out: list[Finding] = []
    perms = res.data.get("permissions")
    if not isinstance(perms, list):
        return out
    for i, perm in enumerate(perms):
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
                _at(
                    res,
                    appspec,
                    "bundle.permissions-file",
                    f"permissions object {obj} is a single file, so it takes no "
                    + ", no ".join(problems)
                    + ": Install fails",
                    "permissions",
                    i,
                    "object",
                )
            )
    return out


def _check_scripts(
    src: _Source, res: AppspecResult, prefix: str, os_name: str | None, appspec: str
) -> list[Finding]:
    out: list[Finding] = []
    hooks = res.data.get("hooks")
    if not isinstance(hooks, dict):
        return out
    seen: set[str] = set()
    for event, scripts in hooks.items():
        if not isinstance(scripts, list):
            continue
        for j, s in enumerate(scripts):
            loc = s.get("location") if isinstance(s, dict) else None
            if not isinstance(loc, str) or not loc.strip():
                continue
            rel = _norm(loc.strip(), os_name)
            if rel in seen:
                continue
            seen.add(rel)
            hit = _lookup(src, prefix, rel, os_name)
            if hit is None or hit.is_dir:
                out.append(
                    _at(
                        res,
                        appspec,
                        "bundle.script-missing",
                        f"{event} script {quote(loc)} is not in the bundle (ScriptMissing: "
                        "'Script does not exist at specified location')",
                        "hooks",
                        str(event),
                        j,
                        "location",
                    )
                )
                continue
            if os_name == "windows":
                continue
            out += _script_findings(src, hit, event, s.get("timeout"))
    return out


# the events whose scripts the agent takes from the last successful revision, not this one
# (aws-codedeploy-agent, hook_executor.rb; AppSpec "hooks" section)
_PREVIOUS_REVISION_EVENTS = ("ApplicationStop", "BeforeBlockTraffic", "AfterBlockTraffic")


def _script_findings(src: _Source, entry: _Entry, event: str, timeout: Any = None) -> list[Finding]:
    out: list[Finding] = []
    if entry.kind != "file":
        return out  # a link: what it points to is checked where it lies
    data = src.read(entry.path) or b""
    name = entry.path
    if data.startswith(b"\x7fELF"):
        return out
    holds = _holds_agent(data, event, timeout, name)
    if holds is not None:
        out.append(holds)
    if not data.startswith(b"#!"):
        out.append(
            Finding(
                1,
                1,
                ERROR,
                "bundle.script-shebang",
                "no shebang line (e.g. #!/bin/bash): the agent cannot execute it "
                "(ScriptFailed, exit 126/127)",
                file=name,
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
                "Windows (CRLF) line endings: it fails with 'bad interpreter: ^M' or "
                "'$'\\r': command not found'; convert to LF (dos2unix)",
                file=name,
            )
        )
    if entry.mode is not None and not entry.mode & stat.S_IXUSR:
        out.append(
            Finding(
                1,
                1,
                WARNING,
                "bundle.script-not-executable",
                f"not executable (mode {entry.mode:o}); the agent adds the bit itself, but on a "
                f"noexec or read-only mount {event} fails with ScriptNotExecutable",
                file=name,
            )
        )
    return out


def _holds_agent(data: bytes, event: str, timeout: Any, name: str) -> Finding | None:
    """A line that keeps the agent waiting until the hook's timeout (checks.pipes: a process
    left on its output pipes, or a server in the foreground), as a warning at that line."""
    if data.split(b"\n", 1)[0].endswith(b"\r"):
        return None  # CRLF: it never gets that far (bundle.script-crlf says why)
    from checks.pipes import holding_line

    found = holding_line(data)
    if found is None:
        return None
    try:
        seconds = int(timeout) if timeout else 3600  # script_info.rb: (timeout || 3600)
    except (TypeError, ValueError):
        seconds = 3600
    detached = f"{found['command']} > /dev/null 2>&1 < /dev/null &"
    what = (
        "runs a server in the foreground, so the script never ends"
        if found["how"] == "foreground"
        else "keeps the agent's output pipe open after the script ends"
    )
    who = (
        f"the next deployment's {event}, which runs this revision's copy,"
        if event in _PREVIOUS_REVISION_EVENTS
        else event
    )
    return Finding(
        found["line"],
        1,
        WARNING,
        "bundle.script-holds-agent",
        f"`{found['text']}` {what}: {who} waits until its timeout ({seconds} s) and fails with "
        f"ScriptTimedOut; start it detached with its output redirected (`{detached}`) or as a "
        "systemd service",
        file=name,
    )


def describe(path: Any) -> str:
    return "bundle archive" if is_archive(path) else "bundle folder"
