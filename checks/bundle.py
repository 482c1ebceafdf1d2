"""bundle.*: the revision's appspec: at the bundle root, valid, and its hook scripts present."""

from __future__ import annotations

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
    evidence: dict[str, Any] = {k: v for k, v in spec.items() if k not in ("destinations",)}
    evidence["destinations"] = sorted((spec.get("destinations") or {}).keys())
    pointed = ctx.pointed("bundle.appspec")
    ids = sorted(f.instance_id for f in pointed)
    validate = Fix(
        "Check the bundle folder before uploading it.",
        ["wizard validate BUNDLE_FOLDER", "wizard deploy"],
    )
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
        nested = spec.get("nested_appspecs") or []
        hint = f" (found {nested[0]}: zip the folder's contents, not the folder)" if nested else ""
        return fail(
            f"no appspec.yml at the root of {where}{hint}",
            evidence=evidence,
            instances=ids,
            fix=Fix(
                "Put appspec.yml at the root of the bundle: zip the contents of the folder.",
                ["cd BUNDLE_FOLDER && zip -r ../bundle.zip .", "wizard deploy"],
            ),
        )
    findings = spec.get("findings") or []
    errors = [f for f in findings if f.get("severity") == "error"]
    warnings = [f for f in findings if f.get("severity") != "error"]
    missing = spec.get("missing_scripts") or []
    bad_sources = spec.get("bad_sources") or []
    linux = _linux_instances(ctx)
    problems: list[str] = []
    if errors:
        first = errors[0]
        line = f" line {first['line']}" if first.get("line") else ""
        problems.append(
            f"{spec['appspec_path']}{line}: {first['message']}"
            + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")
        )
    if missing:
        problems.append(
            f"hook script missing from the bundle: {missing[0]}"
            + (f" (+{len(missing) - 1})" if len(missing) > 1 else "")
        )
    if bad_sources:
        problems.append(f"files source not in the bundle: {bad_sources[0]}")
    if spec.get("os") == "windows" and linux:
        problems.append(
            f"appspec says os: windows but {count_phrase(linux, None)} "
            f"{'runs' if linux == 1 else 'run'} Linux"
        )
    if problems:
        return fail("; ".join(problems), evidence=evidence, instances=ids, fix=validate)
    if warnings:
        return warn(
            f"{spec['appspec_path']}: {warnings[0]['message']}"
            + (f" (+{len(warnings) - 1} more)" if len(warnings) > 1 else ""),
            evidence=evidence,
            fix=validate,
        )
    hooks = spec.get("hooks") or {}
    nscripts = sum(len(v) for v in hooks.values())
    return passed(
        f"{spec['appspec_path']} is valid; {nscripts} hook script(s) present",
        evidence=evidence,
    )


def _linux_instances(ctx) -> int:
    try:
        insts = ctx.ev.instances()
    except Exception:
        return 0
    return sum(1 for i in insts.values() if (i.get("Platform") or "").lower() != "windows")
