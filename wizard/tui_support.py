"""What the wizard's App and its screens share, kept below both: the App composes the screens, and
nothing in the screens points back up to the App.

- `WizardState`: the session's state (AWS context, the answers being edited, the plan, the apply
  result, the steps reached) and the two ways it is kept: `save_project` (the project file) and
  `remember_step` (the UI's resume point). Plain Python; the App owns one, panes read it with
  `state_of(node)`.
- `aws_call`: the one way a screen runs an AWS call: in a thread worker, the result handed back
  on the UI thread to a node that is still live, a failure shown as a modal with one line and Retry.
- `one_line_reason`: any exception as one line (and a hint), never a traceback.
- `is_live`: may a callback still touch this node (mounted, attached, not being removed)?
- `load_progress` / `save_progress`: the step reached, kept outside the project file (the
  project file holds answers only and is meant to be committed) in a small JSON file in the
  user's state directory (`$XDG_STATE_HOME/codedeploy-wizard/progress.json`, default
  `~/.local/state/...`), keyed by the project directory's absolute path: step ids only, nothing
  secret, nothing AWS. Used only while the project file exists, so deleting it starts over.
- Messages a screen posts for the App to act on (`ContextSwitchRequested`), instead of calling it.

Layers: `wizard.widgets` (components, dialogs) ← this module ← `wizard.screens` ← `wizard.app`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

from wizard.fileio import atomic_write

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode

    from wizard.aws import AwsContext
    from wizard.config import Project


def one_line_reason(exc: BaseException, what: str = "") -> tuple[str, str | None]:
    """The reason a call failed as (one line, optional hint), never a traceback.

    Known AWS / configuration failures go through `wizard.aws.explain`; anything else is the
    first line of its message, prefixed with `what` ("Listing instances: …").
    """
    from wizard.aws import explain
    from wizard.errors import WizardError

    try:
        mapped = explain(exc)
    except Exception:  # pragma: no cover - explain must never make things worse
        mapped = None
    if isinstance(mapped, WizardError):
        return mapped.message, mapped.hint
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (f"{what}: {text}" if what else text), None


# ---------------------------------------------------------------------------- progress
def state_file() -> Path:
    """The progress file (honours XDG_STATE_HOME, so tests can isolate it)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "codedeploy-wizard" / "progress.json"


def _read_all() -> dict[str, Any]:
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_progress(project_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """`{"step": id, "done": [ids]}` for this project directory, or {} when never saved."""
    entry = _read_all().get(str(Path(project_dir).resolve()))
    if not isinstance(entry, dict):
        return {}
    step = entry.get("step")
    done = entry.get("done")
    return {
        "step": step if isinstance(step, str) else None,
        "done": [d for d in done if isinstance(d, str)] if isinstance(done, list) else [],
    }


def save_progress(project_dir: str | os.PathLike[str], step: str, done: list[str]) -> str | None:
    """Remember the current step. Returns None, or why it could not be written (one line: the
    wizard goes on without it — it is only a convenience — and says so once)."""
    from wizard.fileio import NotWritable

    data = _read_all()
    data[str(Path(project_dir).resolve())] = {"step": step, "done": sorted(set(done))}
    try:
        atomic_write(state_file(), json.dumps(data, indent=1, sort_keys=True), backup=False)
    except NotWritable as exc:
        return exc.one_line()
    return None


class PendingContext:
    """Stands in for the AwsContext until it is built (in a worker, after the first frame).

    Building a context imports boto3 and reads the AWS config files (with --sandbox it also starts
    the emulator); doing that before the first paint would double the time to the first screen.
    Only what the header shows is known here.
    """

    endpoint_url: str | None = None

    def __init__(
        self,
        factory: Callable[[], AwsContext],
        profile: str | None,
        region: str | None,
        endpoint_url: str | None = None,
        *,
        sandbox: bool = False,
    ) -> None:
        import os

        self.factory = factory
        self.sandbox = sandbox
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.profile = profile or os.environ.get("AWS_PROFILE") or None
        self.region = (
            region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
        )


@dataclass
class WizardState:
    """The wizard's session: where answers go, what is known about the account, how far we got.

    Kept: the answers in the project file (`save_project`, whenever the user moves on with valid
    answers); the step reached with `save_progress` (UI state, outside the project file).
    The plan, the file changes and the apply result live in memory only.
    """

    ctx: Any  # an AwsContext, or a PendingContext until the worker has built it
    project_dir: Path
    project: Project
    project_error: str | None = None  # why the project file could not be read (defaults used)
    identity: dict[str, Any] | None = None  # AwsContext.describe(): account, arn, region, …
    plan: Any = None  # wizard.steps.base.Plan
    file_changes: list[Any] | None = None  # wizard.render.files FileChange objects
    apply_result: Any = None  # wizard.steps.base.ApplyResult
    applying: bool = False
    applied: bool = False
    deploying: bool = False  # a DeployScreen is following a deployment
    saved: bool = False  # the answers on screen were written to the project file at least once
    start_step: str = "credentials"
    # why the last save of the answers failed (NotWritable's line); None once a save works
    save_problem: str | None = None
    progress_problem: str | None = None  # why the resume point could not be kept (said once)
    files_problem: str | None = None  # why Apply could not write the generated files
    # how a write problem reaches the user: the App sets it to a warning toast (thread-safe);
    # without it (tests, no App) the problem is only kept in the fields above
    warn: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        self.done_steps: set[str] = set()
        self.problem_steps: set[str] = set()

    @classmethod
    def open(cls, ctx: Any, project_dir: str | Path | None) -> WizardState:
        """The state for `project_dir`: its project file (or defaults) and the saved progress."""
        from wizard import config

        directory = Path(project_dir or ".")
        project, error = _load_project(directory)
        exists = config.exists(directory)
        progress = load_progress(directory) if exists else {}
        start = progress.get("step") or "credentials"
        state = cls(
            ctx=ctx,
            project_dir=directory,
            project=project,
            project_error=error,
            saved=exists,
            # the plan lives in memory only: resuming mid-apply starts again from the review
            start_step="review" if start == "apply" else start,
        )
        state.done_steps = set(progress.get("done") or [])
        return state

    @property
    def project_file(self) -> Path:
        """Where the answers are saved (absolute)."""
        from wizard import PROJECT_FILE

        return (self.project_dir / PROJECT_FILE).resolve()

    @property
    def sandbox(self) -> bool:
        return bool(getattr(self.ctx, "sandbox", False))

    @property
    def embedded_sandbox(self) -> bool:
        """The emulator this process started (`wizard --sandbox`): everything made in it is gone
        when the wizard ends. False for a `wizard sandbox` server (it outlives the wizard)."""
        ctx = self.ctx
        if isinstance(ctx, PendingContext):
            return ctx.sandbox  # only --sandbox makes a pending context a sandbox
        return bool(getattr(ctx, "sandbox", False) and getattr(ctx, "embedded", False))

    def save_project(self, project: Project) -> str | None:
        """Keep the answers: in memory and in the project file (atomically, merged).

        The project folder is created on the first save (`wizard --project-dir demo` starts in
        a folder of its own that need not exist yet). A file that cannot be written (a read-only
        folder, no permission, a full disk) never stops the wizard: the answers stay in memory,
        the user is told in one line (`warn`) and may go on; returns that line, else None.
        """
        from wizard import config
        from wizard.fileio import NotWritable, os_reason

        self.project = project
        try:
            try:
                self.project_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise NotWritable(self.project_file, os_reason(exc, self.project_dir)) from exc
            config.save(project, self.project_dir)
        except NotWritable as exc:
            line = (
                f"Answers not saved: {exc.one_line()}. They are kept while the wizard runs: go "
                "on, or quit and run it with --project-dir in a folder you can write."
            )
            if exc.one_line() != self.save_problem:  # once, not on every Next
                self.tell(line)
            self.save_problem = exc.one_line()
            return line
        self.saved = True
        self.save_problem = None
        return None

    def tell(self, line: str) -> None:
        """Say a write problem where the user is (`warn`); nothing without an App."""
        if self.warn is not None:
            self.warn(line)

    def where_saved(self, unsaved_step: str | None = None) -> str:
        """One line for the terminal after the app exits: where the answers are (or are not).

        `unsaved_step`: the title of a step whose changed answers quitting now loses; the line
        then says so first and calls the saved ones the earlier answers.
        """
        where = display_path(self.project_file)
        lost = unsaved_sentence(unsaved_step)
        if self.save_problem:
            return f"{lost}Answers not saved: {self.save_problem}."
        if not self.saved:
            return f"{lost}Nothing saved yet (answers go to {where} when you press Next)."
        return f"{lost}Earlier answers are in {where}" if lost else f"Answers saved in {where}"

    def remember_step(self, step: str) -> None:
        """Save the resume point (the embedded sandbox never resumes past the review)."""
        done = self.done_steps
        if self.embedded_sandbox and step in ("apply", "done"):
            # the embedded emulator starts empty on every run: what was applied in it is gone,
            # so the next run resumes at the review (which plans it again), never at "Done"
            step, done = "review", done - {"apply", "done"}
        problem = save_progress(self.project_dir, step, sorted(done))
        if problem and not self.progress_problem:  # once: every step would say it again
            self.tell(
                f"The step reached is not kept for next time: {problem}. Your answers are not "
                "affected."
            )
        self.progress_problem = problem


def unsaved_sentence(step_title: str | None) -> str:
    """What quitting loses: the sentence (with a trailing space) for a step's unsaved changes,
    '' for None."""
    return f"Your changes on the {step_title} step are not saved. " if step_title else ""


def _load_project(directory: Path) -> tuple[Project, str | None]:
    """The project file's answers, or defaults named after the directory (and why)."""
    from wizard import config
    from wizard.errors import ConfigError
    from wizard.naming import application_from_folder

    error = None
    if config.exists(directory):
        try:
            return config.load(directory), None
        except ConfigError as exc:
            error = exc.one_line()
    name = application_from_folder(directory.resolve().name)
    return config.from_dict({"application": name}, check_region_known=False), error


def display_path(path: Path) -> str:
    """`path` for people: under the home directory as `~/…`, else absolute."""
    path = path.resolve()
    try:
        return "~/" + str(path.relative_to(Path.home().resolve()))
    except (ValueError, RuntimeError):
        return str(path)


def user_path(path: str | os.PathLike[str]) -> str:
    """`path` as the user would type it where they started the wizard: relative to the working
    directory when under it (`demo/appspec.yml`, `.` for the directory itself), else as
    `display_path` shows it (`~/…` or absolute). A relative `path` is taken from the working
    directory, as the file generators and the project directory give it."""
    cwd = Path.cwd().resolve()
    full = Path(path).expanduser()
    full = (full if full.is_absolute() else cwd / full).resolve()
    try:
        return str(full.relative_to(cwd))
    except ValueError:
        return display_path(full)


def shell_path(shown: str) -> str:
    """A path from `user_path` quoted for a shell command (`~/` left outside the quotes, so
    the shell still expands it)."""
    import shlex

    if shown.startswith("~/"):
        return "~/" + shlex.quote(shown[2:])
    return shlex.quote(shown)


def state_of(node: DOMNode) -> WizardState:
    """The WizardState of the app `node` runs in (RuntimeError outside the wizard app)."""
    state = getattr(node.app, "state", None)
    if not isinstance(state, WizardState):
        raise RuntimeError(f"{node!r} is not running inside the setup wizard")
    return state


def is_live(node: DOMNode) -> bool:
    """May a late callback (a worker's result, `call_after_refresh`) query and update `node`?

    Only while it is mounted, attached to the app and not on its way out: a step pane the user
    has just left is marked `leaving` before it is removed, and Textual prunes a removed widget's
    children before the widget itself, so a pane being removed can lack the children it composed.
    The App itself is live while it runs.
    """
    if node is node.app:
        return bool(node.app.is_running)
    if not node.is_attached or not getattr(node, "is_mounted", True):
        return False
    current: Any = node
    while current is not None:
        if getattr(current, "leaving", False) or getattr(current, "_pruning", False):
            return False
        current = current._parent
    return True


def to_ui(node: DOMNode) -> Callable[..., None]:
    """For a worker thread: `ui(fn, *args)` runs `fn(*args)` on the UI thread and waits for it,
    or does nothing once `node` is no longer live (the user left the screen meanwhile)."""
    app = node.app

    def run_if_live(fn: Callable[..., Any], *args: Any) -> None:
        if is_live(node):
            fn(*args)

    def ui(fn: Callable[..., Any], *args: Any) -> None:
        if not app.is_running:
            return
        try:
            app.call_from_thread(run_if_live, fn, *args)
        except RuntimeError:  # the app closed its loop meanwhile (quit mid-work)
            pass

    return ui


def aws_call(
    node: DOMNode,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    *,
    what: str,
    on_error: Callable[[str], None] | None = None,
    group: str = "aws",
    exclusive: bool = True,
) -> None:
    """Run `fn` in a thread worker owned by `node`; `on_done(result)` runs on the UI thread.

    Neither callback runs once `node` is no longer live (`is_live`): the user has moved on. A
    failure shows a modal with the one-line reason and Retry (which runs the call again);
    `on_error(reason)` lets the caller mark its own state too.
    """
    from textual.worker import get_current_worker

    app = node.app

    def job() -> None:
        worker = get_current_worker()
        try:
            result = fn()
        except Exception as exc:
            reason, hint = one_line_reason(exc, what)
            if not worker.is_cancelled:
                app.call_from_thread(failed, reason, hint)
            return
        if not worker.is_cancelled:
            app.call_from_thread(succeeded, result)

    def succeeded(result: Any) -> None:
        if is_live(node):
            on_done(result)

    def failed(reason: str, hint: str | None) -> None:
        if not is_live(node):
            return
        if on_error is not None:
            on_error(reason)
        show_error(app, what, reason, hint, retry=start)

    def start() -> None:
        if is_live(node):
            node.run_worker(job, thread=True, group=group, exclusive=exclusive, name=what)

    start()


def show_error(
    app: App[Any],
    what: str,
    reason: str,
    hint: str | None = None,
    retry: Callable[[], None] | None = None,
) -> None:
    """The modal for a failed call; Retry re-runs it. Never stacks two: a failure while one is
    open becomes a notification."""
    from wizard.widgets.dialogs import ErrorScreen

    if isinstance(app.screen, ErrorScreen):
        app.notify(f"{what} failed: {reason}", severity="error", timeout=8)
        return

    def closed(again: bool | None) -> None:
        if again and retry is not None:
            retry()

    app.push_screen(ErrorScreen(what, reason, hint), closed)


class ContextSwitchRequested(Message):
    """A screen asks for another profile / region; the App builds the context in a worker."""

    def __init__(self, profile: str | None, region: str) -> None:
        super().__init__()
        self.profile = profile
        self.region = region
