"""Look into a revision archive the way the CodeDeploy agent does (reference §3 D, §4).

The agent accepts `appspec.yml` or `appspec.yaml` at the bundle root, and strips at most one
top-level directory, only when that directory is the archive's only entry and holds the appspec
(aws-codedeploy-agent, command_executor.rb `unpack_bundle`: `archive_root_files.size == 1`). The
appspec is validated with the project's validator (`wizard.validate.appspec`) when it is
available, else with the agent's core rules.

Besides the verdict, `inspect` records what a fix needs: names at the root that look like an
appspec (`appsepc.yml`, `AppSpec.yml`, `appspec.yml.txt`), the folder that wraps a nested one and
what sits beside it, every hook script's bytes as facts (CRLF, shebang, BOM, mode), and for a
`files` source that is not in the bundle the source that would work.
"""

from __future__ import annotations

import difflib
import io
import posixpath
import tarfile
import zipfile
from typing import Any

from checks import pipes
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


def _read(data: bytes, modes: dict[str, int] | None = None) -> tuple[str, dict[str, bytes | None]]:
    """Archive kind and {path: content or None for directories/large files}; `modes` (if given)
    receives each file's permission bits when the archive records them (zip from Unix, tar)."""
    kind = archive_kind(data)
    entries: dict[str, bytes | None] = {}
    modes = modes if modes is not None else {}
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
                    if info.create_system == 3 and info.external_attr >> 16:  # made on Unix
                        modes[name] = (info.external_attr >> 16) & 0o7777
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
                    modes[name] = m.mode & 0o7777
    return kind, entries


def near_miss_names(names: list[str]) -> list[str]:
    """Root-level names that were meant to be the appspec: another case (`AppSpec.yml`), an
    extra extension (`appspec.yml.txt`, what Windows Explorer hides), or a typo (`appsepc.yml`)."""
    out = []
    for name in names:
        low = name.lower().strip()
        if name in APPSPEC_NAMES or "/" in name.rstrip("/") or name.endswith("/"):
            continue
        if low in APPSPEC_NAMES or any(low.startswith(n + ".") for n in APPSPEC_NAMES):
            out.append(name)
            continue
        stem = low.rsplit(".", 1)[0] if "." in low else low
        ext = low.rsplit(".", 1)[1] if "." in low else ""
        if ext in ("yml", "yaml", "txt", "") and (
            difflib.SequenceMatcher(None, stem, "appspec").ratio() >= 0.75
        ):
            out.append(name)
    return out


def script_facts(data: bytes | None, mode: int | None) -> dict[str, Any]:
    """What the bytes of a hook script say about running it on Linux (JSON-friendly)."""
    if data is None:
        return {"read": False}
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    first = body.split(b"\n", 1)[0]
    shebang = first.rstrip(b"\r").decode("utf-8", "replace") if first.startswith(b"#!") else None
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
    crlf = body.count(b"\r\n")
    return {
        "read": True,
        "bom": bom,
        "shebang": shebang,
        "shebang_crlf": first.startswith(b"#!") and first.endswith(b"\r"),
        "crlf_lines": crlf,
        "lines": lines,
        "mode": f"{mode:o}" if mode is not None else None,
        "executable": bool(mode & 0o111) if mode is not None else None,
        # a line leaving a process on the agent's output pipes (checks.pipes); a script with a
        # CRLF shebang never starts, so it cannot hang
        "holds": None if first.endswith(b"\r") else pipes.holding_line(body),
    }


def suggest_source(src: str, files: list[str], dirs: set[str]) -> str | None:
    """The `files` source that would work for one that is not in the bundle.

    The common case: the appspec names the folder the bundle was made *from* (`source: dist`)
    while the bundle's root already is that folder's content, so `source: /` is meant. A file
    found under another folder is named by its real path.
    """
    rel = src.strip().strip("/")
    if not rel or not files:
        return None
    base = posixpath.basename(rel)
    dirs = set(dirs)
    for f in files:
        d = posixpath.dirname(f)
        while d and d not in dirs:
            dirs.add(d)
            d = posixpath.dirname(d)
    found = sorted(f for f in files if posixpath.basename(f) == base)
    if found:
        return found[0]
    found_dirs = sorted(d for d in dirs if d and posixpath.basename(d) == base)
    if found_dirs:
        return found_dirs[0]
    tail = rel.split("/", 1)[1] if "/" in rel else ""
    if tail and (tail in files or tail in dirs):
        return tail  # `source: app/build` in a bundle made from app/
    return "/"


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
    modes: dict[str, int] = {}
    kind, entries = _read(data, modes)
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
    tops = sorted({n.split("/", 1)[0] + ("/" if "/" in n else "") for n in names if n})
    top_names = sorted({t.rstrip("/") for t in tops})
    if root is None and len(top_names) == 1:
        top = top_names[0]
        root = next((f"{top}/{n}" for n in APPSPEC_NAMES if f"{top}/{n}" in entries), None)
        if root:
            prefix = top + "/"
    nested = sorted(n for n in names if posixpath.basename(n) in APPSPEC_NAMES and n != root)
    out.update({"appspec_path": root, "stripped": prefix or None, "nested_appspecs": nested[:5]})
    if root is None:
        out["root_entries"] = [t for t in tops if t.rstrip("/") != "__MACOSX"][:12] + (
            ["__MACOSX/"] if "__MACOSX" in top_names else []
        )
        out["near_misses"] = near_miss_names([t for t in tops if not t.endswith("/")])
        if not out["near_misses"] and len(top_names) == 1:  # one folder: a near miss inside it?
            inner = [n[len(top_names[0]) + 1 :] for n in names if n.startswith(top_names[0] + "/")]
            out["near_misses"] = [
                f"{top_names[0]}/{n}" for n in near_miss_names([n for n in inner if "/" not in n])
            ]
        if nested:
            wrapper = posixpath.dirname(nested[0])
            out["wrapper"] = wrapper
            out["beside_wrapper"] = [t for t in tops if t.rstrip("/") != wrapper.split("/", 1)[0]][
                :5
            ]
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
    scripts: dict[str, dict[str, Any]] = {}
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
            elif rel not in scripts:
                scripts[rel] = script_facts(entries.get(prefix + rel), modes.get(prefix + rel))
            if item.get("runas"):
                runas.add(str(item["runas"]))
            lst.append(
                {
                    "location": loc,
                    "runas": item.get("runas"),
                    "present": present,
                    "timeout": item.get("timeout"),
                }
            )
        hooks[str(event)] = lst
    out["hooks"] = hooks
    out["missing_scripts"] = missing
    out["scripts"] = scripts
    out["files"] = files[:2000]
    out["runas"] = sorted(runas)
    # where files land, and the top-level names each destination receives
    landing: dict[str, list[str]] = {}
    bad_sources: list[str] = []
    suggestions: dict[str, str | None] = {}
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
            suggestions[src] = suggest_source(src, files, dirs)
        landing.setdefault(dest, [])
        landing[dest] = sorted(set(landing[dest]) | names_here)
    out["destinations"] = landing
    out["bad_sources"] = bad_sources
    out["source_suggestions"] = suggestions
    return out
