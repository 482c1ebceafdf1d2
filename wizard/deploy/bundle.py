"""The revision archive: what `aws deploy push` makes, but reproducible and checked first.

Choices (why):
- The appspec (`appspec.yml`, or `appspec.yaml` as the agent also accepts) must be at the root of
  `bundle.source`; otherwise the agent fails at Install with "did not find an AppSpec file". A
  folder whose only content is one sub-folder holding the appspec is the classic "zipped the
  parent folder" mistake and is refused with the `bundle.source` value that would work.
- The built archive is validated (`wizard validate` rules: appspec, `files` sources, hook
  scripts present) before anything is uploaded; errors refuse and the archive is removed.
- Excluded at any depth, by name: version-control folders (`.git` also as a file, `.hg`, `.svn`,
  `.bzr`, `CVS`, `_darcs`), caches that are rebuilt anyway (`__pycache__`, `.pytest_cache`,
  `.mypy_cache`, `.ruff_cache`, `.hypothesis`, `.tox`, `.nox`), the local virtualenv `.venv`
  (its scripts carry this machine's absolute paths, so it never works on another host), archive
  litter (`__MACOSX`, `.DS_Store`, `Thumbs.db`) and the wizard's own state (the project file and
  its `*.bak.YYYYMMDD-HHMMSS` backups). Everything else is kept, `node_modules` and `vendor`
  included: the application may need them at run time.
- Secrets stay home (`DEFAULT_IGNORE`, gitignore syntax): `.env`, `.env.local` and `.env.*.local`
  (the dotenv files that hold one machine's secrets; `.env.production` and `.env.example` are
  kept), `*.pem`, SSH keys (`id_*` files without an extension, and their `.pub`: `id_rsa`,
  `id_ed25519`, `id_deploy`; `id_utils.py` or an `id_map/` folder are code and stay), `.ssh/`,
  `.aws/`, `.netrc`, `*.p12`/`*.pfx`, everything `.git*` (`.gitignore`, `.github/`, …) and the
  wizard's own `.codedeployignore`.
- `.codedeployignore` at the bundle root adds rules in gitignore syntax, read by the `pathspec`
  library exactly as git reads a `.gitignore` (`!pattern` re-includes, `dir/` matches folders,
  a leading `/` anchors at the root). Its lines come after the defaults, so `!.env` (say) brings a
  default back. What was left out is listed (`BundleInfo.left_out`) so nothing goes missing
  silently.
- Deterministic: entries sorted by path, a fixed timestamp (1980-01-01, or SOURCE_DATE_EPOCH),
  Unix attributes normalised to 755 for anything executable and 644 otherwise, fixed compression
  level; the same tree gives the same bytes. Symbolic links are stored as links (like `zip -y`),
  never followed, so a link loop cannot hang the build. Empty folders are kept as entries.
- Files are streamed into a temporary file in chunks, so a large tree never sits in memory.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard import PROJECT_FILE
from wizard.errors import ConfigError, WizardError

if TYPE_CHECKING:  # pragma: no cover
    from wizard.config import Project

APPSPEC_NAMES = ("appspec.yml", "appspec.yaml")
EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "CVS",
        "_darcs",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        ".tox",
        ".nox",
        ".venv",
        "__MACOSX",
    }
)
EXCLUDED_FILES = frozenset({".git", ".DS_Store", "Thumbs.db", PROJECT_FILE})
IGNORE_FILE = ".codedeployignore"
IGNORE_FILE_MAX = 1024 * 1024
# gitignore lines: what stays out of every bundle unless .codedeployignore says `!…`
DEFAULT_IGNORE = (
    ".env",
    ".env.local",
    ".env.*.local",
    "id_*",  # SSH keys: id_rsa, id_ed25519, id_deploy …
    "!id_*/",  # … but not folders
    "!id_*.*",  # … nor files with an extension (id_utils.py)
    "id_*.pub",  # … except the public halves of the keys
    "*.pem",
    "*.p12",
    "*.pfx",
    ".ssh/",
    ".aws/",
    ".netrc",
    ".git*",
    f"/{IGNORE_FILE}",
)
_BACKUP = re.compile(r"\.bak\.\d{8}-\d{6}(-\d+)?$")
_CHUNK = 1024 * 1024
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class BundleError(WizardError):
    """The bundle folder cannot become a valid revision (exit 1: an invalid file was found)."""

    def __init__(self, message: str, *, problems: list[str] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.problems = problems or []


@dataclass
class BundleInfo:
    """A built revision archive. `path` is a temporary file the caller removes (`cleanup`)."""

    path: Path
    sha256: str
    size: int
    files: int = 0
    source: Path | None = None
    appspec: str = "appspec.yml"
    warnings: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # archive paths, folders ending in "/"

    def cleanup(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


# --------------------------------------------------------------------------- selection
def is_excluded(name: str, is_dir: bool) -> bool:
    """Whether a file or folder called `name` stays out of the bundle (see module docstring)."""
    if is_dir:
        return name in EXCLUDED_DIRS
    return name in EXCLUDED_FILES or bool(_BACKUP.search(name))


@dataclass(frozen=True)
class _Entry:
    arcname: str
    path: Path
    kind: str  # "file" | "dir" | "link"


class IgnoreRules:
    """The default rules plus the bundle's `.codedeployignore`, matched with gitignore semantics."""

    def __init__(self, lines: list[str]) -> None:
        import pathspec

        self.spec = pathspec.GitIgnoreSpec.from_lines(lines)

    def ignored(self, arcname: str, is_dir: bool) -> bool:
        return bool(self.spec.match_file(arcname + "/" if is_dir else arcname))


def load_ignore(source: Path) -> IgnoreRules:
    """The rules for `source`: DEFAULT_IGNORE, then `.codedeployignore` when there is one.

    BundleError when the file is not a regular file, too large (over 1 MiB) or not UTF-8.
    """
    lines = list(DEFAULT_IGNORE)
    path = source / IGNORE_FILE
    if path.is_symlink() or path.exists():
        if not path.is_file() or path.is_symlink():
            raise BundleError(f"{IGNORE_FILE}: not a regular file", hint="Make it a plain file.")
        if path.stat().st_size > IGNORE_FILE_MAX:
            raise BundleError(f"{IGNORE_FILE}: larger than 1 MiB; is it the right file?")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BundleError(
                f"{IGNORE_FILE}: not UTF-8 (byte {exc.start})", hint="Save it as UTF-8."
            ) from None
        lines.extend(text.splitlines())
    try:
        return IgnoreRules(lines)
    except Exception as exc:  # pathspec rejects a malformed pattern
        raise BundleError(f"{IGNORE_FILE}: {exc}") from None


def iter_entries(
    source: Path, rules: IgnoreRules | None = None, left_out: list[str] | None = None
) -> Iterator[_Entry]:
    """Every entry of the bundle in archive order (sorted by archive path).

    `rules` (default: `load_ignore(source)`) decide what stays out besides the fixed exclusions;
    each path left out is appended to `left_out` (a folder once, as `name/`).
    """
    rules = rules if rules is not None else load_ignore(source)
    skipped = left_out if left_out is not None else []
    entries: list[_Entry] = []
    for root, dirnames, filenames in os.walk(source, followlinks=False):
        rootp = Path(root)
        rel = rootp.relative_to(source)
        kept_dirs = []
        for d in dirnames:
            full = rootp / d
            arc = _arc(rel / d)
            if full.is_symlink():
                # os.walk lists links to folders as folders; store them as links, never follow
                if is_excluded(d, False) or rules.ignored(arc, False):
                    skipped.append(arc)
                else:
                    entries.append(_Entry(arc, full, "link"))
            elif is_excluded(d, True) or rules.ignored(arc, True):
                skipped.append(arc + "/")
            else:
                kept_dirs.append(d)
        dirnames[:] = sorted(kept_dirs)
        kept_files = []
        for f in filenames:
            arc = _arc(rel / f)
            if is_excluded(f, False) or rules.ignored(arc, False):
                skipped.append(arc)
            else:
                kept_files.append(f)
        for f in kept_files:
            full = rootp / f
            if full.is_symlink():
                entries.append(_Entry(_arc(rel / f), full, "link"))
                continue
            mode = full.lstat().st_mode
            if not stat.S_ISREG(mode):
                # a FIFO would block the zip forever, a device has no place in a revision
                what = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "not a regular file"
                raise BundleError(
                    f"{_arc(rel / f)} in the bundle folder is {what}: a revision holds files, "
                    "folders and links only",
                    hint="Remove it from bundle.source (nothing was uploaded).",
                )
            entries.append(_Entry(_arc(rel / f), full, "file"))
        if rel != Path(".") and not kept_files and not dirnames:
            entries.append(_Entry(_arc(rel) + "/", rootp, "dir"))
    entries.sort(key=lambda e: e.arcname)
    skipped.sort()
    yield from entries


def _arc(rel: Path) -> str:
    return rel.as_posix()


# --------------------------------------------------------------------------- layout checks
def source_dir(project: Project, project_dir: str | os.PathLike[str]) -> Path:
    """The folder that becomes the revision; ConfigError (exit 2) when it is not a folder."""
    source = (Path(project_dir) / project.bundle.source).resolve()
    if not source.is_dir():
        raise ConfigError(
            f"bundle.source: {project.bundle.source!r} is not a folder (looked at {source})",
            hint="Set bundle.source in the project file to the folder holding appspec.yml.",
        )
    return source


def find_appspec(source: Path, *, display: str | None = None) -> str:
    """The appspec's file name at the root of `source`, or a BundleError saying what is wrong."""
    names = {p.name for p in source.iterdir()}
    for name in APPSPEC_NAMES:
        if name in names:
            return name
    shown = display or str(source)
    wrong_case = sorted(n for n in names if n.lower() in APPSPEC_NAMES)
    if wrong_case:
        raise BundleError(
            f"{shown}: found {wrong_case[0]!r} but the agent only looks for 'appspec.yml' "
            "(lower case) at the bundle root",
            hint=f"Rename it: git mv {wrong_case[0]} appspec.yml",
        )
    top = sorted(
        p for p in source.iterdir() if not is_excluded(p.name, p.is_dir() and not p.is_symlink())
    )
    nested = [d for d in top if d.is_dir() and any((d / n).is_file() for n in APPSPEC_NAMES)]
    if nested:
        inner = nested[0]
        rel = inner.relative_to(source).as_posix()
        where = f"{display.rstrip('/')}/{rel}" if display and display != "." else rel
        only = len(top) == 1
        raise BundleError(
            f"{shown}: the appspec is in the sub-folder {rel}/, not at the bundle root"
            + (" (the whole app was put one folder too deep)" if only else ""),
            hint=f"Set `bundle: {{source: {where}}}` in the project file, or move the appspec up.",
        )
    raise BundleError(
        f"{shown}: no appspec.yml at the root of the bundle folder; CodeDeploy would fail at "
        'Install ("did not find an AppSpec file")',
        hint="Run `wizard files` to generate one, or point bundle.source at the right folder.",
    )


def validate(archive: Path, source: Path, appspec_name: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) from the `wizard validate` rules for the built archive.

    The archive is checked, not the folder, because it is what the agent will unpack: a hook
    script that an exclusion left out is caught here. Uses `wizard.validate.bundle` (appspec
    rules, `files` sources, hook scripts present and executable); falls back to the appspec
    validator alone, then to a YAML parse, so a bundle is never sent unchecked.
    """
    reports: Any = None
    try:
        from wizard.validate.bundle import validate_bundle
    except ImportError:
        validate_bundle = None  # type: ignore[assignment]
    if validate_bundle is not None:
        reports = validate_bundle(archive)
    else:
        text = (source / appspec_name).read_text(encoding="utf-8", errors="replace")
        try:
            from wizard.validate.appspec import validate_appspec_text
        except ImportError:
            return _yaml_only(text, appspec_name), []
        reports = validate_appspec_text(text, path=appspec_name)
    errors: list[str] = []
    warnings: list[str] = []
    for finding in _findings(reports):
        msg = _format(finding, appspec_name)
        sev = str(getattr(finding, "severity", "error")).lower()
        (errors if sev == "error" else warnings).append(msg)
    errors.extend(_platform_errors(source, appspec_name))
    return errors, warnings


def _format(finding: Any, appspec_name: str) -> str:
    """`FILE:LINE:COL: rule: message` for findings in a file of the bundle (the appspec, a
    script), `rule: message` otherwise."""
    rule = getattr(finding, "rule", "") or ""
    message = str(getattr(finding, "message", finding))
    line, col = getattr(finding, "line", 0) or 0, getattr(finding, "column", 0) or 0
    inside = getattr(finding, "file", "") or ""
    if inside:
        return f"{inside}:{line}:{col}: {rule}: {message}"
    head = f"{appspec_name}: "
    if message.startswith(head) or rule.startswith("appspec."):
        message = message.removeprefix(head)
        return f"{appspec_name}:{line}:{col}: {rule}: {message}" if line else f"{rule}: {message}"
    return f"{rule}: {message}" if rule else message


def _platform_errors(source: Path, appspec_name: str) -> list[str]:
    """An ECS or Lambda appspec is valid, but not for an EC2 deployment group."""
    try:
        from wizard.validate.appspec import validate_appspec_text
    except ImportError:
        return []
    text = (source / appspec_name).read_text(encoding="utf-8", errors="replace")
    platform = validate_appspec_text(text, path=appspec_name).platform
    if platform in ("ecs", "lambda"):
        return [
            f"{appspec_name}: this is an {platform.upper()} appspec (Resources:); "
            "wizard deploy deploys to EC2 instances, which need version, os, files and hooks"
        ]
    return []


def _findings(reports: Any) -> Iterator[Any]:
    if reports is None:
        return
    if isinstance(reports, (list, tuple)):
        for r in reports:
            yield from _findings(r)
        return
    yield from getattr(reports, "findings", None) or []


def _yaml_only(text: str, name: str) -> list[str]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        return [f"{name}{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]
    if not isinstance(data, dict):
        return [f"{name}: must be a YAML mapping with version, os, files and hooks"]
    return []


# --------------------------------------------------------------------------- the archive
def _date_time() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        t = time.gmtime(max(int(epoch), 315532800))  # zip cannot go before 1980
        return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec - t.tm_sec % 2)
    return _ZIP_EPOCH


def write_zip(source: Path, out: str | os.PathLike[str], left_out: list[str] | None = None) -> int:
    """Write the deterministic archive of `source` to `out`; returns the number of files.

    The paths the ignore rules left out are appended to `left_out`.
    """
    when = _date_time()
    count = 0
    with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
        for entry in iter_entries(source, left_out=left_out):
            zi = zipfile.ZipInfo(entry.arcname, when)
            zi.create_system = 3  # Unix, so external_attr carries the mode bits
            if entry.kind == "dir":
                zi.external_attr = ((stat.S_IFDIR | 0o755) << 16) | 0x10
                zf.writestr(zi, b"")
                continue
            if entry.kind == "link":
                zi.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(zi, os.readlink(entry.path).encode())
                count += 1
                continue
            st = entry.path.stat()
            perm = 0o755 if st.st_mode & 0o111 else 0o644
            zi.external_attr = (stat.S_IFREG | perm) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.file_size = st.st_size
            with (
                open(entry.path, "rb") as src,
                zf.open(zi, "w", force_zip64=st.st_size >= zipfile.ZIP64_LIMIT) as dst,
            ):
                shutil.copyfileobj(src, dst, _CHUNK)
            count += 1
    return count


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def build_bundle(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    display: str | None = None,
    check: bool = True,
) -> BundleInfo:
    """Zip `source` to `out` (default: a temp file) and check the archive as the agent would.

    Raises BundleError, and leaves no archive behind, when it cannot be a valid revision.
    """
    src = Path(source).resolve()
    if not src.is_dir():
        raise ConfigError(f"bundle.source: {display or src} is not a folder")
    appspec = find_appspec(src, display=display)
    from wizard.fileio import NotWritable, os_reason

    if out is None:
        try:
            fd, tmp = tempfile.mkstemp(prefix="codedeploy-wizard-", suffix=".zip")
        except OSError as exc:  # no usable temporary folder (read-only, missing, full)
            where = os.environ.get("TMPDIR") or tempfile.tempdir or "/tmp"
            raise NotWritable(
                where, os_reason(exc), hint="Set TMPDIR to a folder you can write.", folder=True
            ) from exc
        os.close(fd)
        out_path = Path(tmp)
    else:
        out_path = Path(out)
    warnings: list[str] = []
    left_out: list[str] = []
    try:
        files = write_zip(src, out_path, left_out)
        if check:
            errors, warnings = validate(out_path, src, appspec)
            if errors:
                n = len(errors)
                raise BundleError(
                    f"{display or src}: the bundle is not valid ({n} error{'s' if n != 1 else ''}"
                    f"): {errors[0]}",
                    hint="Run `wizard validate` on the folder; nothing was uploaded.",
                    problems=errors,
                )
    except OSError as exc:
        out_path.unlink(missing_ok=True)
        if exc.filename:  # a source file that cannot be read: the CLI names it
            raise
        # writing the archive failed (a full disk): name the archive, not "unexpected"
        raise NotWritable(
            out_path, os_reason(exc), hint="Set TMPDIR to a folder with room for the bundle."
        ) from exc
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise
    return BundleInfo(
        path=out_path,
        sha256=sha256_file(out_path),
        size=out_path.stat().st_size,
        files=files,
        source=src,
        appspec=appspec,
        warnings=warnings,
        left_out=left_out,
    )


def describe_left_out(paths: list[str], limit: int = 12) -> str:
    """`.env, .git/, keys/id_rsa and 3 more` — what a bundle left out, for one line."""
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def make_bundle(project: Project, project_dir: str | os.PathLike[str]) -> BundleInfo:
    """The revision archive for the project's `bundle.source` (a temporary file)."""
    src = source_dir(project, project_dir)
    return build_bundle(src, display=project.bundle.source)
