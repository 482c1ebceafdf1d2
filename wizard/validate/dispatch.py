"""Decide what kind of file a path is, and run the matching validator.

By name first (appspec.yml/.yaml, .travis.yml, .github/workflows/*.yml, archives, folders), then by
content for anything else (a workflow has `jobs` and `on`, a Travis file `deploy`/`language`/
`script`, an appspec `version` with `os`/`hooks`/`files`/`Resources`).
"""

from __future__ import annotations

import os
from pathlib import Path

from wizard.validate.model import ERROR, FileReport, Finding

KINDS = ("appspec", "bundle", "travis", "workflow", "unknown")


def detect_kind(path: Path, text: str | None = None) -> str:
    name = path.name.lower()
    if path.is_dir():
        return "bundle"
    if name.endswith((".zip", ".tar", ".tar.gz", ".tgz")):
        return "bundle"
    if name in ("appspec.yml", "appspec.yaml", "appspec.json"):
        return "appspec"
    if name == ".travis.yml" or name == ".travis.yaml":
        return "travis"
    parts = [p.lower() for p in path.resolve().parts]
    if (
        len(parts) >= 3
        and parts[-3:-1] == [".github", "workflows"]
        and name.endswith((".yml", ".yaml"))
    ):
        return "workflow"
    if text is not None:
        return _sniff(text)
    return "unknown"


def _sniff(text: str) -> str:
    import yaml

    from wizard.validate.yamlnodes import Yaml12Loader

    try:
        data = yaml.load(text, Loader=Yaml12Loader)  # a SafeLoader subclass
    except Exception:
        data = None
    if not isinstance(data, dict):
        low = text.lower()
        if "\nhooks:" in low or low.startswith("version:"):
            return "appspec"
        return "unknown"
    keys = {str(k) for k in data}
    if "jobs" in keys and ("on" in keys or "True" in keys):
        return "workflow"
    if keys & {"deploy", "language", "script", "before_deploy", "dist", "os"} and not keys & {
        "hooks",
        "files",
        "Resources",
    }:
        return "travis"
    if keys & {"version", "hooks", "files", "Resources", "os", "permissions"}:
        return "appspec"
    return "unknown"


def _read_text(path: Path) -> tuple[str | None, str | None]:
    """(text, error). Bytes that are not UTF-8 are an error, not a crash."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"


def validate_path(path: str | os.PathLike[str]) -> FileReport:
    """Validate one path by its kind; `unreadable` is set when it cannot be read at all."""
    p = Path(path)
    shown = str(path)
    if not p.exists():
        return FileReport(
            shown,
            "unknown",
            [Finding(1, 1, ERROR, "validate.unreadable", "no such file or folder")],
            unreadable=True,
        )
    kind = detect_kind(p)
    if kind == "bundle":
        from wizard.validate.bundle import validate_bundle

        report = validate_bundle(p)
        report.path = shown
        return report
    text, err = _read_text(p)
    if text is None:
        unreadable = err is not None and err.startswith("cannot read")
        rule = "validate.unreadable" if unreadable else "validate.encoding"
        return FileReport(
            shown, kind, [Finding(1, 1, ERROR, rule, err or "unreadable")], unreadable=unreadable
        )
    if kind == "unknown":
        kind = _sniff(text)
    return FileReport(shown, kind, validate_text(text, kind, shown))


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
            "cannot tell what this file is: name it appspec.yml, .travis.yml or put it under "
            ".github/workflows/",
        )
    ]
