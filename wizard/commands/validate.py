"""`wizard validate [PATH...] [--json]`: offline checks, printed like a linter.

With no PATH: the bundle folder (`bundle.source`, by default --project-dir) as `wizard validate .`
checks it (appspec.yml and the hook scripts it names), plus .travis.yml and .github/workflows/*.yml
in --project-dir. A folder PATH is checked with the CI files in it too. Exit 0 when there is no
error (warnings allowed), 1 when a file was read and has an error (DESIGN: the command ran and
found a problem), 2 when a path cannot be read as a regular file or folder or there is nothing to
check (a usage error). The verdict on a path that cannot be read does not depend on its name: a
FIFO, a device, a socket, a loop of symbolic links, a missing path or one without permission is
exit 2 in one line whether it is called `x.zip` or `x.yml` (`wizard.fileio.unreadable_reason`). A
folder is a bundle whatever its name (`x.zip/` is read as a folder, and says so).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from wizard.errors import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, UsageError, printable
from wizard.output import info, print_json, style


def default_paths(project_dir: str | os.PathLike[str]) -> list[Path]:
    """The paths `wizard validate` checks when given no path: the bundle folder (`bundle.source`,
    by default the project folder) as a bundle when it holds an appspec — the same verdict as
    `wizard validate .` (the appspec, the hook scripts it names, the archive rules) —, an appspec
    in the project folder when the bundle is elsewhere, then .travis.yml and
    .github/workflows/*.yml."""
    root = Path(project_dir)
    found: list[Path] = []
    bundle = root
    try:
        from wizard import config

        if config.exists(root):
            bundle = root / config.load(root).bundle.source
    except Exception:  # an invalid project file does not stop validation of the other files
        pass

    def appspec_in(folder: Path) -> Path | None:
        return next((folder / n for n in APPSPEC_NAMES if (folder / n).is_file()), None)

    if appspec_in(bundle) is not None:
        found.append(bundle)
    if bundle.resolve() != root.resolve() and (spec := appspec_in(root)) is not None:
        found.append(spec)
    return found + ci_files(root)


def ci_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The CI files in `folder`: .travis.yml, then .github/workflows/*.yml (sorted). A folder
    given to `wizard validate` is checked with them, as `wizard validate` with no path does."""
    root = Path(folder)
    found = [root / ".travis.yml"] if (root / ".travis.yml").is_file() else []
    wf = root / ".github" / "workflows"
    if wf.is_dir():
        found += sorted(p for p in wf.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    return found


APPSPEC_NAMES = ("appspec.yml", "appspec.yaml")


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _article(kind: str) -> str:
    return {
        "appspec": "an appspec",
        "travis": "a .travis.yml",
        "workflow": "a GitHub workflow",
        "bundle": "a bundle",
    }.get(kind, "an unknown kind of file")


def run(args: argparse.Namespace) -> int:
    from wizard.validate import validate_paths

    if args.paths:
        paths: list[str] = []
        for given in args.paths:
            paths.append(given)
            try:  # a folder: the bundle in it, and its CI files (as with no path)
                extra = ci_files(given) if Path(given).is_dir() else []
            except OSError:  # unreadable: validate_paths says why, in one line
                extra = []
            paths += [str(p) for p in extra if str(p) not in paths]
    else:
        paths = [_shown(p) for p in default_paths(args.project_dir)]
        if not paths:
            raise UsageError(
                f"nothing to validate in {args.project_dir}: no appspec.yml, .travis.yml or "
                ".github/workflows/*.yml",
                hint="Name a file, a bundle folder or an archive: wizard validate PATH",
            )
    reports = validate_paths(paths)
    unreadable = [r for r in reports if r.unreadable]
    if not args.json and unreadable and len(unreadable) == len(reports):
        # nothing was checked at all: a usage error in one line, not a lint report
        first = unreadable[0]
        why = first.findings[0].message if first.findings else "cannot be read"
        more = f" (and {len(unreadable) - 1} more path(s))" if len(unreadable) > 1 else ""
        raise UsageError(f"{first.path}: {why}{more}")  # one_line() escapes the path
    if args.json:
        print_json({"files": [r.to_dict() for r in reports]})
    else:
        errors = warnings = 0
        for r in reports:
            if r.kind_reason.startswith(("by content", "a folder named")):
                # the name did not tell: say which rule decided, so a surprise can be traced
                info(f"{printable(r.path)}: read as {_article(r.kind)} ({r.kind_reason})")
            for f in r.findings:
                sev = style(f.severity, "red" if f.severity == "error" else "yellow")
                # the file the line is in: `appspec.yml:7:3` for `validate .`, so editors jump
                print(f"{f.where(r.path)}:{f.line}:{f.column}: {sev} {f.rule} {f.message}")
                errors += f.severity == "error"
                warnings += f.severity == "warning"
        kinds = ", ".join(f"{printable(r.path)} ({r.kind})" for r in reports)
        summary = f"{len(reports)} file(s) checked: {errors} error(s), {warnings} warning(s)"
        info(f"{summary} — {kinds}" if args.verbose else summary)
        sys.stdout.flush()
    if any(r.unreadable for r in reports):
        return EXIT_USAGE
    return EXIT_OK if all(r.ok for r in reports) else EXIT_PROBLEM
