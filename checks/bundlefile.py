"""Look into a revision archive the way the CodeDeploy agent does (reference §3 D, §4).

The agent accepts `appspec.yml` or `appspec.yaml` at the bundle root, and strips at most one
top-level directory, only when that directory holds the appspec. The appspec is validated with the
project's validator (`wizard.validate.appspec`) when it is available, else with the agent's
core rules.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import zipfile
from typing import Any

from wizard.config import HOOK_EVENTS

APPSPEC_NAMES = ("appspec.yml", "appspec.yaml")
KNOWN_HOOKS = HOOK_EVENTS  # the events that take scripts, as the project file knows them


def archive_kind(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return "zip"
    if data[:2] == b"\x1f\x8b":
        return "tgz"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "tar"
    return "unknown"


def _read(data: bytes) -> tuple[str, dict[str, bytes | None]]:
    """Archive kind and {path: content or None for directories/large files}."""
    kind = archive_kind(data)
    entries: dict[str, bytes | None] = {}
    if kind == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                name = info.filename
                if info.is_dir():
                    entries[name.rstrip("/") + "/"] = None
                else:
                    small = (
                        info.file_size <= 1024 * 1024 or posixpath.basename(name) in APPSPEC_NAMES
                    )
                    entries[name] = zf.read(info) if small else None
    elif kind in ("tgz", "tar"):
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
            for m in tf.getmembers():
                name = m.name[2:] if m.name.startswith("./") else m.name
                if not name or name == ".":
                    continue
                if m.isdir():
                    entries[name.rstrip("/") + "/"] = None
                elif m.isfile():
                    f = tf.extractfile(m)
                    entries[name] = f.read() if f and m.size <= 1024 * 1024 else None
    return kind, entries


def _validate(text: str) -> tuple[Any, list[dict[str, Any]]]:
    """Parsed appspec and findings [{line, severity, rule, message}]."""
    try:
        from wizard.validate.appspec import validate_appspec_text
    except Exception:  # validator not available: the agent's core rules
        validate_appspec_text = None
    if validate_appspec_text is not None:
        res = validate_appspec_text(text)
        findings = [  # agent: "rejects" | "accepts" (a stricter-by-design error, or a warning)
            {
                "line": f.line,
                "severity": f.severity,
                "rule": f.rule,
                "message": f.message,
                "agent": f.agent,
            }
            for f in res.findings
        ]
        return res.data, findings
    import yaml

    findings = []
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return None, [{"line": None, "severity": "error", "rule": "yaml", "message": str(exc)}]
    if not isinstance(data, dict):
        return None, [
            {"line": 1, "severity": "error", "rule": "empty", "message": "appspec is empty"}
        ]
    if data.get("version") not in (0.0, 0):
        findings.append(
            {"line": None, "severity": "error", "rule": "version", "message": "version must be 0.0"}
        )
    if data.get("os") not in ("linux", "windows"):
        findings.append(
            {
                "line": None,
                "severity": "error",
                "rule": "os",
                "message": "os must be linux or windows",
            }
        )
    for name in data.get("hooks") or {}:
        if name not in KNOWN_HOOKS:
            findings.append(
                {
                    "line": None,
                    "severity": "warning",
                    "rule": "hook-name",
                    "message": f"unknown hook {name!r} is silently ignored by CodeDeploy",
                }
            )
    return data, findings


def inspect(data: bytes, bundle_type: str | None = None) -> dict[str, Any]:
    """Everything diagnose needs to know about a bundle, as plain data (JSON-friendly)."""
    kind, entries = _read(data)
    out: dict[str, Any] = {"archive": kind, "bundle_type": bundle_type, "entries": len(entries)}
    if kind == "unknown":
        out["error"] = "the object is not a zip, tar or tar.gz archive"
        return out
    expected = {"zip": "zip", "tgz": "tgz", "tar": "tar"}[kind]
    if bundle_type and bundle_type not in (expected, "YAML", "JSON"):
        out["error"] = f"the deployment says bundleType {bundle_type} but the object is a {kind}"
    names = list(entries)
    root = next((n for n in APPSPEC_NAMES if n in entries), None)
    prefix = ""
    if root is None:
        tops = {n.split("/", 1)[0] for n in names if n}
        if len(tops) == 1:
            top = next(iter(tops))
            root = next((f"{top}/{n}" for n in APPSPEC_NAMES if f"{top}/{n}" in entries), None)
            if root:
                prefix = top + "/"
    nested = sorted(n for n in names if posixpath.basename(n) in APPSPEC_NAMES and n != root)
    out.update({"appspec_path": root, "stripped": prefix or None, "nested_appspecs": nested[:5]})
    if root is None:
        return out
    raw = entries[root] or b""
    text = raw.decode("utf-8", errors="replace")
    parsed, findings = _validate(text)
    out["findings"] = findings
    files = sorted(n[len(prefix) :] for n in names if n.startswith(prefix) and not n.endswith("/"))
    dirs = {posixpath.dirname(f) for f in files}
    if not isinstance(parsed, dict):
        return out
    out["os"] = parsed.get("os")
    out["file_exists_behavior"] = parsed.get("file_exists_behavior")
    hooks: dict[str, list[dict[str, Any]]] = {}
    missing: list[str] = []
    runas: set[str] = set()
    for event, items in (parsed.get("hooks") or {}).items():
        lst = []
        for item in items or []:
            if not isinstance(item, dict):
                continue
            loc = str(item.get("location") or "")
            rel = loc[2:] if loc.startswith("./") else loc
            present = rel in files
            if not present:
                missing.append(f"{event}: {loc}")
            if item.get("runas"):
                runas.add(str(item["runas"]))
            lst.append({"location": loc, "runas": item.get("runas"), "present": present})
        hooks[str(event)] = lst
    out["hooks"] = hooks
    out["missing_scripts"] = missing
    out["runas"] = sorted(runas)
    # where files land, and the top-level names each destination receives
    landing: dict[str, list[str]] = {}
    bad_sources: list[str] = []
    for item in parsed.get("files") or []:
        if not isinstance(item, dict):
            continue
        src = str(item.get("source") or "").strip()
        dest = str(item.get("destination") or "").rstrip("/") or "/"
        rel = src.strip("/")
        names_here: set[str] = set()
        if rel == "":
            names_here = {f.split("/", 1)[0] for f in files}
        elif rel in files:
            names_here = {posixpath.basename(rel)}
        elif rel in dirs or any(f.startswith(rel + "/") for f in files):
            names_here = {
                f[len(rel) + 1 :].split("/", 1)[0] for f in files if f.startswith(rel + "/")
            }
        else:
            bad_sources.append(src)
        landing.setdefault(dest, [])
        landing[dest] = sorted(set(landing[dest]) | names_here)
    out["destinations"] = landing
    out["bad_sources"] = bad_sources
    return out
