"""The deploy part of .travis.yml, in dpl v2 form, merged into whatever the user already has.

What is written (docs: https://docs.travis-ci.com/user/deployment-v2/providers/codedeploy):
- `before_deploy`: one command that zips the bundle into `dpl_cd_upload/` without changing the
  build's directory (a folder other than `.` is zipped from a subshell), guarded by `test -f` so
  running it once per provider (Travis does) is harmless.
- `deploy:` a list: `s3` uploading `dpl_cd_upload/` to the revision prefix, then `codedeploy` with
  the same bucket and key, `bundle_type: zip` and `wait_until_deployed: true`, both `on: {branch}`
  and `edge: true` (opt in to dpl v2, where `cleanup` is off by default: no `skip_cleanup`).
- Credentials: `$AWS_ACCESS_KEY_ID` / `$AWS_SECRET_ACCESS_KEY`, set as repository environment
  variables (never in the file); existing `secure:` values are kept.
- Optional Slack notification with a `secure:` placeholder that `travis encrypt` replaces.

Merging is round-trip (ruamel.yaml): comments, key order and every unrelated key survive, an
existing `codedeploy` entry (and the `s3` entry feeding it) is updated in place, not duplicated;
v1-only keys (`skip_cleanup`, dashed keys) in those entries are removed or renamed.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

UPLOAD_DIR = "dpl_cd_upload"
ENV_KEY_ID = "$AWS_ACCESS_KEY_ID"
ENV_SECRET = "$AWS_SECRET_ACCESS_KEY"
SLACK_PLACEHOLDER = "REPLACE-ME-with-travis-encrypt-output"
SLACK_COMMAND = 'travis encrypt "ACCOUNT:TOKEN#channel" --add notifications.slack.rooms'
# `travis env set NAME VALUE` takes the value as an argument (travis.rb lib/travis/cli/env.rb):
# a secret typed there lands in shell history and `ps`. `"$(cat)"` reads it from the terminal
# instead (paste it, Enter, then Ctrl-D).
SECRET_FROM_STDIN = '"$(cat)"'
FROM_STDIN_HINT = "paste the secret, Enter, Ctrl-D"


def env_set_command(name: str, value: str | None = None) -> str:
    """The `travis env set` command that stores repository variable `name`, hidden (--private).

    With no `value` the command reads it from the terminal (`"$(cat)"`), so a secret never
    appears on a command line. The one place this text is made: the CLI (`wizard apply
    --create-access-key`), the TUI's done screen and the generated .travis.yml all show it.
    """
    return f"travis env set {name} {value if value is not None else SECRET_FROM_STDIN} --private"


HEADER = (
    "# Deploy to AWS CodeDeploy (written by codedeploy-wizard; dpl v2).\n"
    "# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are repository environment variables; never\n"
    "# put keys in this file. Set the secret from the terminal, not on a command line:\n"
    f"#   {env_set_command('AWS_SECRET_ACCESS_KEY')}   # {FROM_STDIN_HINT}\n"
)


@dataclass
class TravisTarget:
    """Resolved values the deploy section needs."""

    application: str
    deployment_group: str
    region: str
    bucket: str
    prefix: str  # "releases/" or ""
    branch: str
    source: str  # bundle folder relative to the repository, "." for the root
    slack: bool = False
    file_exists_behavior: str = "DISALLOW"  # the project's; dpl's own default is disallow

    @property
    def bundle_name(self) -> str:
        app = re.sub(r"[^A-Za-z0-9._-]+", "-", self.application).strip("-") or "app"
        return f"{app}-$TRAVIS_COMMIT.zip"

    @property
    def key(self) -> str:
        return f"{self.prefix}{self.bundle_name}"

    @property
    def upload_dir(self) -> str:
        return self.prefix.strip("/")


def bundle_command(t: TravisTarget) -> str:
    """The idempotent bundle build: no `cd` in the build's own shell."""
    # every expansion in double quotes (shellcheck SC2086: $TRAVIS_COMMIT is a variable)
    out = f"{UPLOAD_DIR}/{t.bundle_name}"
    excludes = "-x '.git/*' '" + UPLOAD_DIR + "/*' '.codedeploy-wizard.yml*'"
    src = t.source.strip().rstrip("/") or "."
    if src in (".", "./"):
        return f'test -f "{out}" || zip -qr "{out}" . {excludes}'
    quoted = "'" + src.replace("'", "'\\''") + "'"
    return (
        f'test -f "{out}" || (cd {quoted} && zip -qr "$TRAVIS_BUILD_DIR/{out}" . '
        f"-x '.git/*' '.codedeploy-wizard.yml*')"
    )


def _commands(t: TravisTarget) -> list[str]:
    return [f"mkdir -p {UPLOAD_DIR}", bundle_command(t)]


def _s3_entry(t: TravisTarget) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "provider": "s3",
        "access_key_id": ENV_KEY_ID,
        "secret_access_key": ENV_SECRET,
        "bucket": t.bucket,
        "region": t.region,
        "local_dir": UPLOAD_DIR,
    }
    if t.upload_dir:
        entry["upload_dir"] = t.upload_dir
    entry["on"] = {"branch": t.branch}
    entry["edge"] = True
    return entry


def _codedeploy_entry(t: TravisTarget) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "provider": "codedeploy",
        "access_key_id": ENV_KEY_ID,
        "secret_access_key": ENV_SECRET,
        "bucket": t.bucket,
        "key": t.key,
        "bundle_type": "zip",
        "application": t.application,
        "deployment_group": t.deployment_group,
    }
    if t.file_exists_behavior.upper() != "DISALLOW":
        # CI deployments clash with existing files exactly as `wizard deploy` would not
        entry["file_exists_behavior"] = t.file_exists_behavior.lower()
    entry.update(
        {
            "region": t.region,
            "wait_until_deployed": True,
            "on": {"branch": t.branch},
            "edge": True,
        }
    )
    return entry


def _slack() -> dict[str, Any]:
    return {
        "rooms": [{"secure": SLACK_PLACEHOLDER}],
        "on_success": "change",
        "on_failure": "always",
    }


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yml = YAML()
    yml.preserve_quotes = True
    yml.width = 4096
    yml.indent(mapping=2, sequence=4, offset=2)
    return yml


def render_travis(t: TravisTarget) -> str:
    """A new .travis.yml holding only the deploy part (the user adds language/script)."""
    return merge_travis("", t)


def merge_travis(old_text: str, t: TravisTarget) -> str:
    """Merge the deploy part into an existing .travis.yml (or an empty one)."""
    from ruamel.yaml.comments import CommentedMap

    from wizard.render.appspec import MergeError

    yml = _yaml()
    if old_text.strip():
        try:
            doc = yml.load(old_text)
        except Exception as exc:
            raise MergeError(f"it is not valid YAML ({str(exc).splitlines()[0]})") from None
        if doc is None:
            doc = CommentedMap()
        if not isinstance(doc, dict):
            raise MergeError("it is not a YAML mapping")
        new_file = False
    else:
        doc = CommentedMap()
        new_file = True
    scope = _scope(doc, t)
    _merge_before_deploy(scope, t)
    _merge_deploy(scope, t)
    if t.slack:
        _merge_slack(doc)
    buf = io.StringIO()
    yml.dump(doc, buf)
    text = buf.getvalue()
    return (HEADER + text) if new_file else text


def _job_scopes(doc: Any) -> list[Any]:
    """Job entries that can hold their own deploy (jobs.include / matrix.include)."""
    out = []
    for key in ("jobs", "matrix"):
        jobs = doc.get(key)
        include = jobs.get("include") if isinstance(jobs, dict) else None
        if isinstance(include, list):
            out += [j for j in include if isinstance(j, dict)]
    return out


def _scope(doc: Any, t: TravisTarget) -> Any:
    """Where our deploy lives: the job (stage) that already deploys with CodeDeploy, else the
    top level, so that an existing stage deploy is updated rather than a second one added."""

    def has_codedeploy(m: Any) -> bool:
        deploy = m.get("deploy")
        entries = deploy if isinstance(deploy, list) else [deploy]
        return any(_provider(e) == "codedeploy" for e in entries)

    if has_codedeploy(doc):
        return doc
    return next((j for j in _job_scopes(doc) if has_codedeploy(j)), doc)


def _cm(data: dict[str, Any]) -> Any:
    from ruamel.yaml.comments import CommentedMap

    out = CommentedMap()
    for k, v in data.items():
        out[k] = _cm(v) if isinstance(v, dict) else v
    return out


def _merge_before_deploy(doc: Any, t: TravisTarget) -> None:
    from ruamel.yaml.comments import CommentedSeq

    ours = _commands(t)
    current = doc.get("before_deploy")
    if current is None:
        seq = CommentedSeq(ours)
        doc["before_deploy"] = seq
        return
    if isinstance(current, str):
        seq = CommentedSeq([current])
        doc["before_deploy"] = seq
        current = seq
    if not isinstance(current, list):
        doc["before_deploy"] = CommentedSeq(ours)
        return
    # drop our older lines, then put ours back where the first of them was
    idx = None
    for i in range(len(current) - 1, -1, -1):
        line = current[i]
        if isinstance(line, str) and (UPLOAD_DIR in line):
            current.pop(i)
            idx = i
    at = len(current) if idx is None else idx
    for n, line in enumerate(ours):
        current.insert(at + n, line)


def _provider(entry: Any) -> str:
    return str(entry.get("provider", "")).lower() if isinstance(entry, dict) else ""


def _merge_deploy(doc: Any, t: TravisTarget) -> None:
    from ruamel.yaml.comments import CommentedSeq

    deploy = doc.get("deploy")
    if deploy is None:
        doc["deploy"] = CommentedSeq([_cm(_s3_entry(t)), _cm(_codedeploy_entry(t))])
        return
    if isinstance(deploy, dict):
        deploy = CommentedSeq([deploy])
        doc["deploy"] = deploy
    if not isinstance(deploy, list):
        doc["deploy"] = CommentedSeq([_cm(_s3_entry(t)), _cm(_codedeploy_entry(t))])
        return
    cds = [i for i, e in enumerate(deploy) if _provider(e) == "codedeploy"]
    # ours: same application, else same group, else the only codedeploy entry (renamed app);
    # with several entries for other applications, ours is added beside them
    mine = [i for i in cds if deploy[i].get("application") == t.application] or [
        i for i in cds if deploy[i].get("deployment_group") == t.deployment_group
    ]
    cd_idx = (mine or (cds if len(cds) == 1 else []) or [None])[0]
    old_bucket = None
    if cd_idx is None:
        deploy.append(_cm(_codedeploy_entry(t)))
        cd_idx = len(deploy) - 1
    else:
        old_bucket = deploy[cd_idx].get("bucket")
        _update(deploy[cd_idx], _codedeploy_entry(t))
    buckets = {t.bucket, old_bucket} - {None}
    s3s = [i for i, e in enumerate(deploy) if _provider(e) == "s3"]
    feeding = [
        i
        for i in s3s
        if deploy[i].get("local_dir") == UPLOAD_DIR or deploy[i].get("bucket") in buckets
    ]
    if feeding:
        s3_idx = feeding[0]
        _update(deploy[s3_idx], _s3_entry(t))
        if s3_idx > cd_idx:  # the upload must run before the deployment
            entry = deploy.pop(s3_idx)
            deploy.insert(cd_idx, entry)
    else:
        deploy.insert(cd_idx, _cm(_s3_entry(t)))


def _update(entry: Any, wanted: dict[str, Any]) -> None:
    """Set our keys in an existing provider entry; keep the user's other keys and secure creds."""
    for pos, key in reversed(list(enumerate(entry.keys()))):
        if isinstance(key, str) and "-" in key:
            under = key.replace("-", "_")
            value = entry.pop(key)
            if under not in entry:
                entry.insert(pos, under, value)
    entry.pop("skip_cleanup", None)
    for key, value in wanted.items():
        if key in ("access_key_id", "secret_access_key") and _is_safe_secret(entry.get(key)):
            continue
        if key == "on" and isinstance(entry.get("on"), dict):
            entry["on"]["branch"] = value["branch"]
            continue
        if entry.get(key) != value:
            entry[key] = _cm(value) if isinstance(value, dict) else value


def _is_safe_secret(value: Any) -> bool:
    """A `secure:` value or an environment variable reference."""
    if isinstance(value, dict):
        return "secure" in value
    return isinstance(value, str) and value.strip().startswith("$")


def _merge_slack(doc: Any) -> None:
    from ruamel.yaml.comments import CommentedMap

    notes = doc.get("notifications")
    if notes is None:
        notes = CommentedMap()
        doc["notifications"] = notes
    if isinstance(notes, dict) and "slack" not in notes:
        notes["slack"] = _cm(_slack())
        notes.yaml_add_eol_comment(f"encrypt your token: {SLACK_COMMAND}", "slack")
