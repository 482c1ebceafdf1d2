"""`wizard files [--yes]`: write appspec.yml, hook skeletons and the CI config.

New files are created. A file that exists is merged (see `wizard.render`), its unified diff shown,
and written only after a yes (`--yes` answers for you; without a terminal and without `--yes` the
command writes nothing and exits 2). Replaced files keep a backup (`NAME.bak.TIMESTAMP`) and their
mode. Everything written is validated right after with the `wizard validate` rules.

The bucket name and the deploy role ARN contain the AWS account. It is looked up (STS) when AWS is
reachable — credentials in the environment or AWS config files, `--profile`, `--endpoint-url` or
`--sandbox`; otherwise the files take it from repository variables (`$CODEDEPLOY_BUCKET` on
Travis; `vars.CODEDEPLOY_BUCKET` and `vars.AWS_ACCOUNT_ID` on GitHub) and the command says so.
Setting `bucket.name` in the project file avoids the lookup for Travis.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from wizard import PROJECT_FILE, config
from wizard.errors import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, UsageError, WizardError
from wizard.fileio import NotWritable
from wizard.output import ask_yes_no, info, style
from wizard.render import travis as travis_r
from wizard.render.files import (
    FileChange,
    FilesError,
    check_writable,
    plan_files,
    write_files,
)


def _aws_configured(args: argparse.Namespace) -> bool:
    """Is there any hint of credentials, so that an STS call is worth trying?"""
    if args.sandbox or args.endpoint_url or args.profile:
        return True
    env = os.environ
    if env.get("AWS_ACCESS_KEY_ID") or env.get("AWS_PROFILE") or env.get("AWS_ENDPOINT_URL"):
        return True
    if env.get("AWS_WEB_IDENTITY_TOKEN_FILE") or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return True
    home = Path.home() / ".aws"
    for var, default in (
        ("AWS_SHARED_CREDENTIALS_FILE", home / "credentials"),
        ("AWS_CONFIG_FILE", home / "config"),
    ):
        path = Path(env.get(var) or default)
        if path.is_file() and path.stat().st_size > 0:
            return True
    return False


def _lookup_account(
    args: argparse.Namespace, project: config.Project
) -> tuple[str | None, str | None]:
    """(account, region) from AWS when reachable; (None, None) with a note otherwise."""
    if project.ci.provider == "none" or not _aws_configured(args):
        if project.ci.provider != "none":
            info(
                "No AWS credentials found: the CI file reads the account from repository variables."
            )
        return None, None
    from wizard.commands._context import aws_context

    if not args.region and project.region:
        args.region = project.region
    try:
        with aws_context(args) as ctx:
            account = ctx.account
            if ctx.sandbox:
                how = (
                    "without --sandbox"
                    if getattr(ctx, "sandbox_server", None) is not None
                    else "against your AWS account (not the sandbox endpoint)"
                )
                info(
                    f"note: the CI file names the sandbox account {account}; run `wizard files` "
                    f"{how} to write your AWS account's values"
                )
            return account, ctx.region
    except WizardError as exc:
        info(f"AWS not reachable ({exc.message}): the CI file reads the account from variables.")
        return None, None


def _region(args: argparse.Namespace, project: config.Project, aws_region: str | None) -> str:
    return (
        project.region
        or args.region
        or aws_region
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or ""
    )


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _print_diff(change: FileChange, root: Path) -> None:
    tty = sys.stdout.isatty()
    for line in change.diff(root).splitlines():
        if tty and line.startswith("+") and not line.startswith("+++"):
            line = style(line, "green")
        elif tty and line.startswith("-") and not line.startswith("---"):
            line = style(line, "red")
        print(line)


def preflight_writable(
    project: config.Project, root: str | os.PathLike[str], *, region: str | None, hint: str
) -> None:
    """NotWritable (exit 2, with `hint`) unless the project folder and every folder the project's
    files go into can be written (tried for real, offline), before anything is changed."""
    from wizard.fileio import require_writable

    require_writable(root, hint=hint)
    try:  # the paths do not depend on the account or region: placeholders will do here
        changes = plan_files(
            project, root, account="000000000000", region=project.region or region or "us-east-1"
        )
    except FilesError:
        return  # reported with its real values when the files are written, as before
    try:
        check_writable(changes)
    except NotWritable as exc:
        exc.hint = hint
        raise


def run(args: argparse.Namespace) -> int:
    root = Path(args.project_dir)
    project = config.load(root)
    preflight_writable(project, root, region=args.region, hint="Nothing was written.")
    if project.ci.provider == "github" and not project.ci.repository:
        raise UsageError("ci.repository (OWNER/NAME) is required for ci.provider github")
    account, aws_region = _lookup_account(args, project)
    region = _region(args, project, aws_region)
    return write_and_report(project, root, account=account, region=region, yes=args.yes)


def write_and_report(
    project: config.Project,
    root: Path,
    *,
    account: str | None,
    region: str,
    deploy_role_arn: str | None = None,
    yes: bool = False,
    sandbox_note: bool = False,
) -> int:
    """Plan, show, write and validate the project's files; the exit code (0, 1 or 2).

    `wizard files` and `wizard setup --yes` (after apply, as the TUI's Apply does) both end here.
    Raises WizardError when an existing file cannot be merged (nothing is written then).
    """
    if project.ci.provider != "none" and not region:
        raise UsageError(
            "no AWS region for the CI file",
            hint="Set `region:` in the project file, or pass --region.",
        )
    try:
        changes = plan_files(
            project, root, account=account, region=region, deploy_role_arn=deploy_role_arn
        )
    except FilesError as exc:
        raise WizardError(
            f"{_rel(exc.path, root)} exists but cannot be merged: {exc.reason}",
            hint="Fix or move it, then run `wizard files` again (nothing was written).",
        ) from None
    try:  # every folder tried before the first file is written: never half the files
        check_writable(changes)
    except NotWritable as exc:
        exc.hint = "Nothing was written."
        raise
    if sandbox_note and project.ci.provider != "none":
        info(
            f"note: the CI file names the sandbox account {account}; run `wizard files` against "
            "your AWS account to write its values"
        )

    pending = [c for c in changes if c.changed]
    existing = [c for c in pending if c.exists]
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if existing and not yes and not interactive:
        for c in existing:
            _print_diff(c, root)
        names = ", ".join(_rel(c.path, root) for c in existing)
        print(
            f"error: {names} would change; re-run with --yes to write (a backup is kept). "
            "Nothing was written.",
            file=sys.stderr,
        )
        return EXIT_USAGE

    to_write: list[FileChange] = []
    for c in pending:
        if c.exists:
            _print_diff(c, root)
        if c.exists and not yes and not ask_yes_no(f"Write {_rel(c.path, root)}?"):
            info(f"skipped {_rel(c.path, root)}")
            continue
        to_write.append(c)
    try:
        backups = write_files(to_write)
    except NotWritable as exc:  # a full disk, a folder made read-only meanwhile …
        done = getattr(exc, "written", [])
        exc.hint = (
            f"Written before it: {', '.join(_rel(p, root) for p in done)}."
            if done
            else "Nothing was written."
        )
        raise
    backup_of = {b.name.split(".bak.")[0]: b for b in backups}

    for c in changes:
        name = _rel(c.path, root)
        if c in to_write:
            verb = "updated" if c.exists else "created"
            extra = (
                f" (backup: {_rel(backup_of[c.path.name], root)})"
                if c.path.name in (backup_of)
                else ""
            )
            print(f"{verb} {name}{extra}")
        elif not c.changed:
            print(f"unchanged {name}")
        for note in c.notes:
            info(f"note: {name}: {note}")

    if sandbox_note:
        # the account the files name ends with the command: the CI user's key and a push mean
        # nothing there (the command's own next steps say how to go on)
        return _self_check([c for c in to_write if c.kind != "hook"], root)
    if project.ci.provider == "travis":
        info(
            "Travis: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go in the repository's "
            "settings (hidden), never in this file; `wizard apply --create-access-key` creates "
            "the CI user's key and shows the `travis env set` commands."
        )
        if project.ci.slack:
            info(f"Slack: encrypt your token into the file with: {travis_r.SLACK_COMMAND}")
    if to_write and project.ci.provider != "none":
        tops = {_rel(c.path, root).split("/")[0] for c in to_write}
        if (root / PROJECT_FILE).is_file():  # the answers travel with the repository too
            tops.add(PROJECT_FILE)
        names = " ".join(sorted(tops))
        info(f"Next: git add {names} && git commit, then push to {project.ci.branch} to deploy.")
    return _self_check([c for c in to_write if c.kind != "hook"], root)


def _self_check(written: list[FileChange], root: Path) -> int:
    """Validate what was written; a problem here comes from content that was already there."""
    if not written:
        return EXIT_OK
    from wizard.validate import validate_paths

    bad = 0
    for report in validate_paths([c.path for c in written]):
        for f in report.findings:
            if f.severity == "error":
                bad += 1
                print(f.format(_rel(Path(report.path), root)), file=sys.stderr)
    if bad:
        info(f"{bad} problem(s) in the files above (from their existing content); see the lines.")
        return EXIT_PROBLEM
    return EXIT_OK
