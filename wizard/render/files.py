"""Plan and write the generated files: what would change, as a diff, before anything is written.

`plan_files` computes every file `wizard files` manages (appspec.yml, hook skeletons, the CI
config) with its old and new text; `write_files` writes the changed ones atomically, keeping a
backup of any file it replaces and the file's mode. Nothing here talks to AWS: the account (for the
bucket name and the deploy role ARN) is passed in, and without it the CI files read those values
from repository variables instead (see `wizard.render.github`, and `$CODEDEPLOY_BUCKET` for Travis).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from wizard import naming
from wizard.render import appspec as appspec_r
from wizard.render import github as github_r
from wizard.render import travis as travis_r
from wizard.render.hooks import render_hook_script, script_location

if TYPE_CHECKING:  # pragma: no cover
    from wizard.config import Project

TRAVIS_BUCKET_VAR = "$CODEDEPLOY_BUCKET"
APPSPEC_NAMES = ("appspec.yml", "appspec.yaml")


@dataclass
class FileChange:
    """One file `wizard files` manages: its current and wanted text, and the mode it gets."""

    path: Path
    new_text: str
    old_text: str | None
    mode: int  # permission bits for a new file; an existing file keeps its own
    kind: str = ""  # appspec | hook | travis | workflow
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text

    @property
    def exists(self) -> bool:
        return self.old_text is not None

    def diff(self, root: str | os.PathLike[str] | None = None) -> str:
        """Unified diff from the current text (empty for a new file) to the new one."""
        name = str(self.path)
        if root is not None:
            try:
                name = str(self.path.relative_to(Path(root)))
            except ValueError:
                pass
        old = self.old_text if self.old_text is not None else ""
        return "".join(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                self.new_text.splitlines(keepends=True),
                fromfile=f"a/{name}" if self.old_text is not None else "/dev/null",
                tofile=f"b/{name}",
            )
        )


class FilesError(Exception):
    """A file exists but cannot be merged safely; `path` names it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: cannot merge into it: {reason}")
        self.path = path
        self.reason = reason


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (FileNotFoundError, NotADirectoryError):  # not there (a parent may be a file)
        return None
    except UnicodeDecodeError as exc:
        raise FilesError(path, "it is not UTF-8 text") from exc


def bundle_root(project: Project, project_dir: str | os.PathLike[str]) -> Path:
    return (Path(project_dir) / (project.bundle.source or ".")).resolve()


def travis_bucket(project: Project, account: str | None, region: str) -> str:
    if project.bucket.name:
        return project.bucket.name
    if account:
        return project.bucket_name(account, region)
    return TRAVIS_BUCKET_VAR


def github_bucket(project: Project, account: str | None, region: str) -> str:
    if project.bucket.name:
        return project.bucket.name
    if account:
        return project.bucket_name(account, region)
    return github_r.BUCKET_VAR


def deploy_role_arn_for(project: Project, account: str | None, region: str) -> str:
    """The deploy role `wizard apply` creates (`wizard.naming.deploy_role`); without an account,
    the workflow reads it from the `AWS_ACCOUNT_ID` repository variable."""
    acct = account or github_r.ACCOUNT_VAR
    return naming.deploy_role_arn(project.application, acct, github_r.partition(region))


def plan_files(
    project: Project,
    project_dir: str | os.PathLike[str],
    *,
    account: str | None = None,
    region: str | None = None,
    deploy_role_arn: str | None = None,
) -> list[FileChange]:
    """Every file `wizard files` manages, with old and new text; raises FilesError on a file
    that exists but cannot be merged (not YAML), so nothing is half-written."""
    root = Path(project_dir)
    broot = bundle_root(project, root)
    region = region or project.region or ""
    changes: list[FileChange] = []

    # appspec.yml (or the user's appspec.yaml) at the bundle root
    path = next((broot / n for n in APPSPEC_NAMES if (broot / n).is_file()), broot / "appspec.yml")
    old = _read(path)
    notes: list[str] = []
    if old is None:
        new = appspec_r.render_appspec(project)
    else:
        try:
            new, notes = appspec_r.merge_appspec_notes(old, project)
        except appspec_r.MergeError as exc:
            raise FilesError(path, str(exc)) from None
    changes.append(FileChange(path, new, old, 0o644, "appspec", notes))

    # hook skeletons the appspec points at, only when missing
    locations = _hook_locations(new)
    for event in appspec_r.ordered_hooks(project):
        loc = script_location(event, project.bundle.os)
        if loc not in locations:
            continue  # the user's own script handles this event
        spath = broot / loc.replace("\\", "/")
        sold = _read(spath) if spath.exists() else None
        if sold is not None:
            changes.append(FileChange(spath, sold, sold, 0o755, "hook"))
            continue
        text = render_hook_script(
            event, project.application, project.bundle.destination, project.bundle.os
        )
        changes.append(FileChange(spath, text, None, 0o755, "hook"))

    # CI config
    source = os.path.relpath(broot, root.resolve())
    if project.ci.provider == "travis":
        if not region:
            raise FilesError(root / ".travis.yml", "no region: set `region` or pass --region")
        t = travis_r.TravisTarget(
            application=project.application,
            deployment_group=project.deployment_group,
            region=region,
            bucket=travis_bucket(project, account, region),
            prefix=project.bucket.prefix,
            branch=project.ci.branch,
            source=source,
            slack=project.ci.slack,
            file_exists_behavior=project.bundle.file_exists_behavior,
        )
        tpath = root / ".travis.yml"
        told = _read(tpath)
        try:
            tnew = travis_r.merge_travis(told or "", t)
        except appspec_r.MergeError as exc:
            raise FilesError(tpath, str(exc)) from None
        notes = []
        if t.bucket == TRAVIS_BUCKET_VAR:
            notes.append(
                "bucket is $CODEDEPLOY_BUCKET: set it as a repository variable, or re-run with "
                "AWS credentials (or bucket.name in the project file)"
            )
        changes.append(FileChange(tpath, tnew, told, 0o644, "travis", notes))
    elif project.ci.provider == "github":
        if not region:
            raise FilesError(root / github_r.WORKFLOW, "no region: set `region` or pass --region")
        g = github_r.GithubTarget(
            application=project.application,
            deployment_group=project.deployment_group,
            region=region,
            bucket=github_bucket(project, account, region),
            prefix=project.bucket.prefix,
            branch=project.ci.branch,
            source=source,
            role_arn=deploy_role_arn or deploy_role_arn_for(project, account, region),
            file_exists_behavior=project.bundle.file_exists_behavior,
            pin_actions=project.ci.pin_actions,
        )
        gpath = root / github_r.WORKFLOW
        gold = _read(gpath)
        notes = []
        if gold is not None and github_r.MARKER not in gold:
            notes.append(f"{github_r.WORKFLOW} is yours: the deploy workflow goes beside it")
            gpath = root / github_r.ALTERNATE
            gold = _read(gpath)
        if github_r.ACCOUNT_VAR in g.role_arn or g.bucket == github_r.BUCKET_VAR:
            notes.append(
                "set the repository variables AWS_ACCOUNT_ID and CODEDEPLOY_BUCKET, or re-run "
                "with AWS credentials to write the values"
            )
        changes.append(FileChange(gpath, render_workflow(g), gold, 0o644, "workflow", notes))
    return changes


def render_workflow(g: github_r.GithubTarget) -> str:
    return github_r.render_workflow(g)


def _hook_locations(appspec_text: str) -> set[str]:
    import yaml

    try:
        data = yaml.safe_load(appspec_text)
    except yaml.YAMLError:
        return set()
    out: set[str] = set()
    hooks = data.get("hooks") if isinstance(data, dict) else None
    if isinstance(hooks, dict):
        for scripts in hooks.values():
            for s in scripts or []:
                if isinstance(s, dict) and isinstance(s.get("location"), str):
                    out.add(s["location"])
    return out


def check_writable(changes: list[FileChange]) -> None:
    """NotWritable for the first changed file whose folder cannot take it (read-only, a parent
    that is a file, no permission), before anything is written; see fileio.writable_reason."""
    from wizard.fileio import NotWritable, writable_reason

    seen: dict[Path, str | None] = {}
    for ch in changes:
        if not ch.changed:
            continue
        folder = ch.path.parent
        if folder not in seen:
            seen[folder] = writable_reason(folder)
        if seen[folder]:
            raise NotWritable(ch.path, seen[folder] or "")


def write_files(changes: list[FileChange]) -> list[Path]:
    """Write every changed file atomically; returns the backups made of replaced files.

    Raises wizard.fileio.NotWritable for the first file that cannot be written (that file is
    left as it was); its `written` lists the files written before it.
    """
    from wizard.fileio import NotWritable, atomic_write

    check_writable(changes)  # a read-only folder: nothing written rather than half the files
    backups: list[Path] = []
    written: list[Path] = []
    for ch in changes:
        if not ch.changed:
            continue
        mode = None if ch.exists else ch.mode
        try:
            backup = atomic_write(ch.path, ch.new_text, mode=mode, backup=ch.exists)
        except NotWritable as exc:
            exc.written = written  # type: ignore[attr-defined]
            raise
        written.append(ch.path)
        if backup is not None:
            backups.append(backup)
    return backups
