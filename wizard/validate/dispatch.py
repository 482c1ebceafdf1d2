"""Decide what kind of file a path is, and run the matching validator.

By name when the name tells (appspec.yml/.yaml/.json, .travis.yml, .github/workflows/*.yml,
archives, folders); otherwise by content, from the top-level keys (`detect_by_content`). Every
report says which rule decided (`FileReport.kind_reason`), so a surprising verdict can be traced.

Only regular files and folders are read, and at most MAX_TEXT bytes of a file. A path that cannot
be read at all (missing, a FIFO, a device, a socket, a loop of symbolic links, no permission) gets
the same `validate.unreadable` finding and `unreadable` report whatever its name says, so an
archive's name (`pipe.zip`) and a YAML file's name (`pipe.yml`) end alike: exit 2, one line.
A regular file that is readable but is not what it should be (too large, not UTF-8, a corrupt
archive) is a finding about the file: exit 1.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from wizard.validate.model import ERROR, FileReport, Finding

KINDS = ("appspec", "bundle", "travis", "workflow", "unknown")
MAX_TEXT = 1024 * 1024  # an appspec or CI file is a few KiB; 1 MiB is far beyond any real one

# Keys that only an AppSpec has (any case: `Files:`/`Hooks:` are common typos of appspecs)
APPSPEC_KEYS = ("hooks", "files", "permissions", "file_exists_behavior", "resources")
# Top-level keys of .travis.yml (docs.travis-ci.com, "Build Config Reference")
TRAVIS_KEYS = (  # one of these alone decides
    "script",
    "install",
    "before_install",
    "before_script",
    "after_success",
    "after_failure",
    "after_script",
    "before_deploy",
    "after_deploy",
    "deploy",
    "dist",
)
TRAVIS_WEAK_KEYS = (  # other formats have these too: two of them decide
    "language",
    "os",
    "matrix",
    "addons",
    "notifications",
    "services",
    "branches",
    "stages",
    "sudo",
    "cache",
    "git",
    "import",
    "env",
    "jobs",
)
_TEXT_APPSPEC = re.compile(
    r"^(version\s*:?\s*0(\.0)?\s*$|(hooks|files|permissions|file_exists_behavior|Resources)\s*:)",
    re.I | re.M,
)
_TEXT_TRAVIS = re.compile(r"^(language|script|before_install|before_deploy|dist)\s*:", re.M)
_TEXT_WORKFLOW = re.compile(r"^jobs\s*:", re.M)
_TEXT_ON = re.compile(r"^['\"]?on['\"]?\s*:", re.M)


def detect_kind(path: Path, text: str | None = None) -> str:
    """The kind of `path` ("appspec", "bundle", "travis", "workflow" or "unknown")."""
    kind, _ = detect(path, text)
    return kind


def detect(path: Path, text: str | None = None) -> tuple[str, str]:
    """(kind, the rule that decided): by name first, then by content when `text` is given."""
    name = path.name.lower()
    if path.is_dir():
        if name.endswith((".zip", ".tar", ".tgz", ".gz", ".yml", ".yaml", ".json")):
            return "bundle", "a folder named like a file: a folder is always a bundle"
        return "bundle", "a folder is a bundle"
    if name.endswith((".zip", ".tar", ".tar.gz", ".tgz")):
        return "bundle", "by name: an archive"
    if name in ("appspec.yml", "appspec.yaml", "appspec.json"):
        return "appspec", f"by name: {path.name}"
    if name in (".travis.yml", ".travis.yaml"):
        return "travis", f"by name: {path.name}"
    # the path as given, made absolute (not resolved: a symlink loop must not raise here)
    parts = [p.lower() for p in Path(os.path.normpath(os.path.abspath(path))).parts]
    if (
        len(parts) >= 3
        and parts[-3:-1] == [".github", "workflows"]
        and name.endswith((".yml", ".yaml"))
    ):
        return "workflow", "by place: .github/workflows/"
    if text is not None:
        return detect_by_content(text)
    return "unknown", "not by name"


def detect_by_content(text: str) -> tuple[str, str]:
    """(kind, reason) from the top-level keys of a YAML/JSON document.

    An appspec has `version: 0.0` or one of hooks/files/permissions/file_exists_behavior/
    Resources (in any case); a workflow has `jobs` and `on`; a .travis.yml has a Travis-only key
    (language, script, deploy, …). `os` says nothing: both appspecs and .travis.yml have it.
    Unreadable YAML falls back to the same rules on the lines that start at column 1.
    """
    import json

    import yaml

    from wizard.validate.yamlnodes import Yaml12Loader

    data = None
    if text.lstrip("\ufeff \t\r\n").startswith("{"):
        try:
            data = json.loads(text.lstrip("\ufeff"))  # JSON allows tabs, YAML does not
        except ValueError:
            data = None
    if data is None:
        try:
            data = yaml.load(text, Loader=Yaml12Loader)  # a SafeLoader subclass
        except Exception:
            data = None
    if isinstance(data, dict):
        keys = {str(k) for k in data}
        lower = {k.lower(): k for k in keys}
        version = data.get("version")
        appspec_keys = sorted(lower[k] for k in APPSPEC_KEYS if k in lower)
        if version in (0, 0.0, "0.0") and not isinstance(version, bool):
            return "appspec", "by content: `version: 0.0`"
        if "revision" in keys and "applicationName" in keys:
            return "appspec", "by content: a create-deployment input (its revision is an AppSpec)"
        if "jobs" in keys and "on" in keys:  # before `permissions`, which workflows have too
            return "workflow", "by content: the keys `on` and `jobs`"
        if appspec_keys:
            return "appspec", f"by content: the key {appspec_keys[0]}"
        travis = sorted(k for k in TRAVIS_KEYS if k in keys)
        if travis:
            return "travis", f"by content: the key {travis[0]}"
        weak = sorted(k for k in TRAVIS_WEAK_KEYS if k in keys)
        if len(weak) >= 2 and "version" not in keys:
            return "travis", f"by content: the keys {weak[0]} and {weak[1]}"
        if {"version", "os"} <= keys:
            return "appspec", "by content: the keys version and os"
        return "unknown", "by content: no key of an appspec, workflow or .travis.yml"
    if data is not None:
        return "unknown", "by content: not a mapping of keys"
    if _TEXT_APPSPEC.search(text):
        return "appspec", "by content (unreadable YAML): an AppSpec key at the start of a line"
    if _TEXT_WORKFLOW.search(text) and _TEXT_ON.search(text):
        return "workflow", "by content (unreadable YAML): `on:` and `jobs:` lines"
    if _TEXT_TRAVIS.search(text):
        return "travis", "by content (unreadable YAML): a Travis key at the start of a line"
    return "unknown", "by content: nothing recognisable"


def _read_text(path: Path) -> tuple[str | None, str | None, bool]:
    """(text, error, unreadable). Only regular files, at most MAX_TEXT bytes; bytes that are not
    UTF-8 are an error, not a crash."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}", True
    if not stat.S_ISREG(st.st_mode):  # swapped since `unreadable_reason` looked
        from wizard.fileio import file_kind

        return None, f"cannot read: {file_kind(st.st_mode)}, not a regular file", True
    if st.st_size > MAX_TEXT:
        return (
            None,
            f"{st.st_size // 1024} KiB: far too large for an appspec or CI file "
            f"(at most {MAX_TEXT // 1024} KiB are read)",
            False,
        )
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_TEXT + 1)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}", True
    if len(data) > MAX_TEXT:
        return None, f"more than {MAX_TEXT // 1024} KiB: far too large for an appspec", False
    try:
        return data.decode("utf-8"), None, False
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})", False


def validate_path(path: str | os.PathLike[str]) -> FileReport:
    """Validate one path by its kind; `unreadable` is set when it cannot be read at all."""
    from wizard.fileio import unreadable_reason

    p = Path(path)
    shown = str(path)
    # one verdict for a path that cannot be read at all, whatever its name says: `pipe.zip` and
    # `pipe.yml` are both a usage error (exit 2), never a lint finding of one kind or the other
    problem = unreadable_reason(p)
    if problem is not None:
        kind, reason = detect(p)
        return FileReport(
            shown,
            kind,
            [Finding(1, 1, ERROR, "validate.unreadable", problem)],
            unreadable=True,
            kind_reason=reason,
        )
    kind, reason = detect(p)
    if kind == "bundle":
        from wizard.validate.bundle import validate_bundle

        report = validate_bundle(p)
        report.path = shown
        report.kind_reason = reason
        return report
    text, err, unreadable = _read_text(p)
    if text is None:
        rule = "validate.unreadable" if unreadable else "validate.encoding"
        return FileReport(
            shown,
            kind,
            [Finding(1, 1, ERROR, rule, err or "unreadable")],
            unreadable=unreadable,
            kind_reason=reason,
        )
    if kind == "unknown":
        kind, reason = detect_by_content(text)
    return FileReport(shown, kind, validate_text(text, kind, shown), kind_reason=reason)


def validate_text(text: str, kind: str, path: str = "") -> list[Finding]:
    """The findings for a text of a known kind."""
    if kind == "appspec":
        from wizard.validate.appspec import validate_appspec_text

        return validate_appspec_text(text, path or "appspec.yml").findings
    if kind == "travis":
        from wizard.validate.travis import validate_travis_text

        return validate_travis_text(text, path or ".travis.yml")
    if kind == "workflow":
        from wizard.validate.workflow import validate_workflow_text

        return validate_workflow_text(text, path or "workflow.yml")
    return [
        Finding(
            1,
            1,
            ERROR,
            "validate.kind",
            "cannot tell what this file is: it has none of the keys of an appspec (version, os, "
            "files, hooks), a .travis.yml (language, script, deploy) or a workflow (on, jobs); "
            "name it appspec.yml or .travis.yml, or put it under .github/workflows/",
        )
    ]
