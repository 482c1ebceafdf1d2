"""bundle.*: the revision's appspec: at the bundle root, valid, and its hook scripts present."""

from __future__ import annotations

import difflib
import posixpath
import shlex
from typing import Any

from checks.interpret import count_phrase
from checks.model import Fix, Result, fail, passed, skip, warn
from checks.registry import check


@check("bundle.appspec", "AppSpec file in the bundle", requires=("s3.bundle-exists",), priority=40)
def appspec(ctx) -> Result:
    """appspec.yml at the bundle root, valid by the agent's rules, every hook script present."""
    if not ctx.ev.revision():
        return skip("no S3 revision to look at")
    spec = ctx.ev.appspec()
    loc = ctx.ev.revision() or {}
    where = f"s3://{loc.get('bucket')}/{loc.get('key')}"
    evidence: dict[str, Any] = {k: v for k, v in spec.items() if k not in ("destinations", "files")}
    evidence["destinations"] = sorted((spec.get("destinations") or {}).keys())
    evidence["files_in_bundle"] = len(spec.get("files") or [])
    pointed = ctx.pointed("bundle.appspec")
    ids = sorted(f.instance_id for f in pointed)
    if spec.get("archive") == "unknown" or spec.get("error"):
        return fail(
            f"{where}: {spec.get('error')}",
            evidence=evidence,
            instances=ids,
            fix=Fix(
                "Upload a zip (or tar/tgz) made from the bundle folder, with the matching "
                "bundleType.",
                ["wizard deploy"],
            ),
        )
    if not spec.get("appspec_path"):
        summary, fix = _no_appspec(spec, where)
        return fail(summary, evidence=evidence, instances=ids, fix=fix)
    findings = spec.get("findings") or []
    errors = [f for f in findings if f.get("severity") == "error"]
    warnings = [f for f in findings if f.get("severity") != "error"]
    missing = spec.get("missing_scripts") or []
    bad_sources = spec.get("bad_sources") or []
    linux = _linux_instances(ctx)
    path = spec["appspec_path"]
    # (summary, fix) per problem; the one the deployment failed on comes first
    problems: list[tuple[str, Fix]] = []
    if bad_sources:
        problems.append(_bad_source(spec, bad_sources, path))
    if missing:
        problems.append(_missing_script(spec, missing, path))
    if errors:
        first = errors[0]
        line = f" line {first['line']}" if first.get("line") else ""
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        problems.append(
            (
                f"{path}{line}: {first['message']}{more}",
                Fix(
                    f"Fix {path}{line}: {first['message']}; then check the bundle folder and "
                    "deploy again.",
                    [f"wizard validate {path}", "wizard deploy"],
                ),
            )
        )
    if spec.get("os") == "windows" and linux:
        problems.append(
            (
                f"appspec says os: windows but {count_phrase(linux, None)} "
                f"{'runs' if linux == 1 else 'run'} Linux",
                Fix(
                    f"Set `os: linux` in {path} (the instances run Linux), then deploy again.",
                    [f"wizard validate {path}", "wizard deploy"],
                ),
            )
        )
    if problems:
        causes = {f.cause.key for f in pointed}
        if "script-missing" in causes:
            problems.sort(key=lambda p: not p[0].startswith("hook script missing"))
        summary = "; ".join(p[0] for p in problems)
        return fail(summary, evidence=evidence, instances=ids, fix=problems[0][1])
    if warnings:
        first = warnings[0]
        line = f" line {first['line']}" if first.get("line") else ""
        return warn(
            f"{path}{line}: {first['message']}"
            + (f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""),
            evidence=evidence,
            fix=Fix(
                f"Fix {path}{line}: {first['message']}; then deploy again.",
                [f"wizard validate {path}", "wizard deploy"],
            ),
        )
    hooks = spec.get("hooks") or {}
    nscripts = sum(len(v) for v in hooks.values())
    return passed(
        f"{spec['appspec_path']} is valid; {nscripts} hook script(s) present",
        evidence=evidence,
    )


def _no_appspec(spec: dict[str, Any], where: str) -> tuple[str, Fix]:
    """No appspec at the root: what *is* there decides the fix (reference §3 D16).

    A near-miss name is renamed; an appspec in a folder is a folder zipped instead of its
    contents (the agent strips one top folder only when it is alone in the archive: a
    `__MACOSX/` beside it defeats that); nothing like it is said plainly.
    """
    near = spec.get("near_misses") or []
    nested = spec.get("nested_appspecs") or []
    root = spec.get("root_entries") or []
    if near:
        name = near[0]
        folder = posixpath.dirname(name)
        target = posixpath.join(folder, "appspec.yml")
        return (
            f"no appspec.yml at the root of {where}, but there is {name}: the agent looks for "
            "exactly appspec.yml (or appspec.yaml)",
            Fix(
                f"Rename {name} to {target} in the bundle folder, then deploy again.",
                [f"mv {shlex.quote(name)} {target}   # in the bundle folder", "wizard deploy"],
            ),
        )
    if nested:
        wrapper = spec.get("wrapper") or posixpath.dirname(nested[0])
        beside = spec.get("beside_wrapper") or []
        why = (
            f" (beside {', '.join(beside[:3])}: the agent strips a top folder only when it is "
            "alone)"
            if beside
            else ""
        )
        return (
            f"no appspec.yml at the root of {where}: it is at {nested[0]}{why}; the folder was "
            "zipped instead of its contents",
            Fix(
                f"Zip the contents of {wrapper}/, not the folder itself"
                + (f" (and without {', '.join(beside[:2])})" if beside else "")
                + ", then deploy again.",
                [
                    f"cd {shlex.quote(wrapper)} && zip -r -X ../bundle.zip .",
                    "wizard deploy",
                ],
            ),
        )
    shown = ", ".join(root[:6]) + (", …" if len(root) > 6 else "")
    return (
        f"no appspec.yml anywhere in {where} (its root holds {shown or 'nothing'})",
        Fix(
            "Add an appspec.yml at the root of the bundle folder (wizard files writes one), "
            "then deploy again.",
            ["wizard files", "wizard deploy"],
        ),
    )


def _bad_source(spec: dict[str, Any], bad: list[str], path: str) -> tuple[str, Fix]:
    """A `files` source the bundle does not have, and the source that would work."""
    src = bad[0]
    better = (spec.get("source_suggestions") or {}).get(src)
    more = f" (+{len(bad) - 1})" if len(bad) > 1 else ""
    files = spec.get("files") or []
    tops = sorted({f.split("/", 1)[0] for f in files})
    held = ", ".join(tops[:4]) + (", …" if len(tops) > 4 else "")
    if better == "/":
        return (
            f"files source {src!r} is not in the bundle{more}: the bundle's root already holds "
            f"the app ({held})",
            Fix(
                f"In {path}, change `source: {src}` to `source: /` (the bundle's root is the "
                "content to copy), then deploy again.",
                [f"wizard validate {path}", "wizard deploy"],
            ),
        )
    if better:
        return (
            f"files source {src!r} is not in the bundle{more}; it holds {better}",
            Fix(
                f"In {path}, change `source: {src}` to `source: {better}`, then deploy again.",
                [f"wizard validate {path}", "wizard deploy"],
            ),
        )
    return (
        f"files source {src!r} is not in the bundle{more}",
        Fix(
            f"Put {src} in the bundle, or change that source in {path}; then deploy again.",
            [f"wizard validate {path}", "wizard deploy"],
        ),
    )


def _missing_script(spec: dict[str, Any], missing: list[str], path: str) -> tuple[str, Fix]:
    """A hook's location that is not in the bundle, and the script that is closest."""
    event, _, loc = missing[0].partition(": ")
    more = f" (+{len(missing) - 1})" if len(missing) > 1 else ""
    files = spec.get("files") or []
    rel = loc[2:] if loc.startswith("./") else loc.lstrip("/")
    close = difflib.get_close_matches(rel, files, n=1, cutoff=0.6)
    if loc.startswith("/"):
        hint = f"locations are relative to the bundle root: write `location: {rel}`"
        action = f"In {path}, write the {event} location relative to the bundle root ({rel})"
    elif close:
        hint = f"the bundle has {close[0]}"
        action = f"In {path}, point {event} at {close[0]} (or add {loc} to the bundle)"
    else:
        hint = "nothing like it is in the bundle"
        action = f"Add {loc} to the bundle (or fix the {event} location in {path})"
    return (
        f"hook script missing from the bundle: {event}: {loc}{more} ({hint})",
        Fix(f"{action}, then deploy again.", [f"wizard validate {path}", "wizard deploy"]),
    )


def _linux_instances(ctx) -> int:
    try:
        insts = ctx.ev.instances()
    except Exception:
        return 0
    return sum(1 for i in insts.values() if (i.get("Platform") or "").lower() != "windows")
