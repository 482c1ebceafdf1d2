"""DeployScreen: bundle, upload and deploy, then a live table of every instance's progress.

All AWS work runs in one thread worker (`wizard.deploy.run` then `wizard.deploy.follow`); results
come back to the UI thread with `call_from_thread`. Leaving the screen stops following (the
deployment itself goes on); `s` stops the deployment after a confirmation. On failure diagnose runs
at once and its root cause, fix and commands are shown under the table; `d` opens the interactive
DiagnoseScreen (evidence and fixes) on the deployment.

While the deployment runs the log shows each change as polling sees it; once it has ended the log
is replaced by the record: every instance's lifecycle events in order with how each ended, the
same whatever the polling saw (and so the same picture on every run).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, RichLog, Static

from wizard.tui_support import to_ui
from wizard.widgets.command_block import CommandBlock
from wizard.widgets.dialogs import DismissOnce

if TYPE_CHECKING:
    from wizard.aws import AwsContext
    from wizard.config import Project
    from wizard.deploy.follow import FollowEvent, TargetState
    from wizard.deploy.run import DeploymentHandle

_STATUS_STYLE = {
    "Succeeded": "green",
    "Failed": "bold red",
    "Stopped": "yellow",
    "InProgress": "cyan",
    "Skipped": "dim",
    "Pending": "dim",
}


def _sentence(text: str) -> str:
    """`text` as a sentence: a capital first letter and one closing full stop (a message that
    already ends in '.', '!' or '?' gets none of its own)."""
    text = text.strip()
    if not text:
        return ""
    text = text[:1].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _prose(text: str) -> Any:
    """Text that wraps at spaces and breaks a path, URI, ARN or id only after '/', '-', ','
    … , never mid-word (`wizard.widgets.breakable`)."""
    from wizard.widgets.breakable import Breakable

    return Breakable(text)


def _styled(status: str, widget: Any = None) -> Any:
    from rich.text import Text

    from wizard.widgets.plan_table import themed

    style = _STATUS_STYLE.get(status, "")
    return Text(status or "…", style=themed(widget, style) if widget is not None else style)


class DeployScreen(DismissOnce, Screen[str]):
    """Deploy the project's bundle and follow it live; dismisses with the final status.

    With `redeploy_of` (a deployment id) and no project: deploy that deployment's revision
    again to its group (`wizard.deploy.run.redeploy`, nothing bundled or uploaded), as
    `wizard diagnose` offers once its fixes leave nothing failing.
    """

    DEFAULT_CSS = """
    DeployScreen #deploy-title { padding: 0 1; text-style: bold; }
    DeployScreen #deploy-stage { padding: 0 1; color: $text-muted; }
    DeployScreen #deploy-targets { height: auto; max-height: 50%; margin: 1 0 0 0; }
    DeployScreen #deploy-log { height: 1fr; min-height: 5; border: round $panel; }
    /* the result and the diagnosis take what they need (at most 40%, then they scroll with a
       visible scrollbar); the log the rest */
    DeployScreen #deploy-more { height: auto; max-height: 40%; min-height: 2; }
    /* a short terminal (24 rows): the table and the result give the log its room */
    DeployScreen.-short #deploy-targets { margin: 0; max-height: 30%; }
    DeployScreen.-short #deploy-more { max-height: 7; }
    DeployScreen #deploy-result { padding: 0 1; }
    DeployScreen #deploy-rollback { padding: 0 1; }
    DeployScreen #deploy-result.-ok { color: $success; }
    DeployScreen #deploy-result.-failed { color: $error; }
    DeployScreen #deploy-diagnosis { padding: 0 1; }
    DeployScreen #deploy-commands { margin: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("s", "stop_deployment", "Stop deployment"),
        Binding("d", "diagnose", "Diagnose…"),
    ]
    SHORT = 30  # below this many rows the log would be squeezed: the other parts give way

    def __init__(
        self,
        ctx: AwsContext,
        project: Project | None,
        project_dir: str | Path = ".",
        *,
        file_exists_behavior: str | None = None,
        description: str | None = None,
        redeploy_of: str | None = None,
    ) -> None:
        super().__init__()
        if project is None and redeploy_of is None:
            raise ValueError("DeployScreen needs a project or a deployment to redeploy")
        self.ctx = ctx
        self.project = project
        self.redeploy_of = redeploy_of
        self.project_dir = Path(project_dir)
        self.file_exists_behavior = file_exists_behavior
        self.description = description
        self.handle: DeploymentHandle | None = None
        self.status: str = ""
        self.diagnosis: dict[str, Any] | None = None
        self.finished = False
        self.diagnosed = False
        self._stop = threading.Event()
        self._rows: set[str] = set()
        self._latest: dict[str, TargetState] = {}  # every target as last seen
        # what a traffic event did, per (instance, event): "healthy in web-tg" (for the record)
        self._details: dict[tuple[str, str], str] = {}
        # a Traffic column: in service, draining … (a redeploy learns it from the group)
        self.traffic = project.load_balancer.enabled if project is not None else False
        self.rollback: FollowEvent | None = None  # the last "rollback" event, if CodeDeploy did
        self._diagnosis_text = ""

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        badge = "[reverse] SANDBOX [/reverse] " if self.ctx.sandbox else ""
        if self.project is not None:
            what = f"Deploy {self.project.application} → {self.project.deployment_group}"
        else:
            what = f"Deploy again the revision of {self.redeploy_of}"
        yield Static(f"{badge}{what}", id="deploy-title")
        first = "Preparing the bundle…" if self.project is not None else "Reading the revision…"
        yield Static(first, id="deploy-stage", markup=False)
        table: DataTable = DataTable(id="deploy-targets", cursor_type="row", zebra_stripes=True)
        yield table
        yield RichLog(id="deploy-log", wrap=True, markup=False, max_lines=2000)
        with VerticalScroll(id="deploy-more"):
            yield Static("", id="deploy-rollback", markup=False)
            yield Static("", id="deploy-result", markup=False)
            yield Static("", id="deploy-diagnosis", markup=False)
            yield CommandBlock(id="deploy-commands")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#deploy-rollback", Static).display = False
        self._add_columns()
        self.run_worker(self._work, thread=True, exclusive=True, group="deploy")

    def _add_columns(self) -> None:
        table = self.query_one("#deploy-targets", DataTable)
        table.clear(columns=True)
        table.add_column("Instance", key="instance")
        table.add_column("Status", key="status")
        if self.traffic:
            table.add_column("Traffic", key="traffic")
        table.add_column("Lifecycle event", key="event")
        table.add_column("Detail", key="detail")

    def on_unmount(self) -> None:
        self._stop.set()

    def on_resize(self, event: Any) -> None:
        self.set_class(event.size.height < self.SHORT, "-short")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Stop only while a deployment runs; Diagnose once it has ended (dimmed before)."""
        if action == "stop_deployment":
            if self.finished:
                return False
            return True if self.handle is not None else None
        if action == "diagnose":
            return True if self.finished and self.handle is not None else None
        return True

    # ------------------------------------------------------------------ worker (thread)
    def _work(self) -> None:
        from wizard.deploy.follow import TERMINAL, follow
        from wizard.deploy.run import redeploy, start_deployment

        ui = to_ui(self)
        try:
            if self.project is None:
                assert self.redeploy_of is not None
                handle = redeploy(
                    self.ctx,
                    self.redeploy_of,
                    description=self.description,
                    progress=lambda stage, msg: ui(self._stage, stage, msg),
                )
            else:
                handle = start_deployment(
                    self.ctx,
                    self.project,
                    self.project_dir,
                    file_exists_behavior=self.file_exists_behavior,
                    description=self.description,
                    progress=lambda stage, msg: ui(self._stage, stage, msg),
                )
            ui(self._created, handle)
            status = follow(
                self.ctx,
                handle.deployment_id,
                lambda ev: ui(self._event, ev),
                region=handle.region,
                on_targets=lambda ts: ui(self._targets, ts),
                stop=self._stop,
            )
        except Exception as exc:
            from wizard.tui_support import one_line_reason

            reason, hint = one_line_reason(exc, "deploy")
            more = list(getattr(exc, "problems", []) or [])[1:]  # every bundle problem
            if more:
                reason += "".join(f"\n  - {p}" for p in more)
            if not self._stop.is_set():
                ui(self._failed, reason, hint)
            return
        if self._stop.is_set() and status not in TERMINAL:
            return
        ui(self._finished, status)
        if status != "Succeeded":
            self._run_diagnose()

    def _run_diagnose(self) -> None:
        from wizard.deploy.diagnosis import diagnose_deployment

        if self.handle is None:
            return
        ui = to_ui(self)
        ui(self._show_diagnosis, "Diagnosing…", None)
        result = diagnose_deployment(self.ctx, self.handle.deployment_id)
        ui(self._show_diagnosis, result.text, result.doc, True)

    # ------------------------------------------------------------------ UI thread
    def _stage(self, stage: str, message: str) -> None:
        self.query_one("#deploy-stage", Static).update(_prose(f"{stage}: {message}"))

    def _created(self, handle: DeploymentHandle) -> None:
        self.handle = handle
        self.refresh_bindings()
        if self.project is None:  # a redeploy: the title names the group now it is known
            badge = "[reverse] SANDBOX [/reverse] " if self.ctx.sandbox else ""
            self.query_one("#deploy-title", Static).update(
                f"{badge}Deploy {handle.application} → {handle.deployment_group}"
            )
            if handle.traffic and not self.traffic:
                self.traffic = True
                self._add_columns()
        # one value per line, each a single word: nothing is broken mid-word at 80 columns
        # (the sandbox has no console: the title's SANDBOX badge says so, the line is saved
        # for the log)
        text = (
            f"deployment {handle.deployment_id}\nbucket     {handle.bucket}\n"
            f"revision   {handle.key}"
        )
        if self.project is None and self.redeploy_of:
            text += f" (as in {self.redeploy_of})"
        if handle.console_url:
            text += f"\nconsole    {handle.console_url}"
        self.query_one("#deploy-stage", Static).update(_prose(text))

    def _event(self, ev: FollowEvent) -> None:
        log = self.query_one("#deploy-log", RichLog)
        log.write(_prose(ev.line()))
        for tail in ev.log_lines():
            log.write(_prose(f"          | {tail}"))
        if ev.kind == "lifecycle" and ev.detail and ev.target_id and not ev.rollback_of:
            self._details[(ev.target_id, ev.lifecycle_event or "")] = ev.detail
        if ev.kind == "deployment" and not ev.rollback_of:
            self.status = ev.status
        elif ev.kind == "rollback":
            self.rollback = ev
            line = self.query_one("#deploy-rollback", Static)
            line.update(_prose(_sentence(ev.rollback_text())))
            line.display = not self.finished
            if ev.status == "InProgress":
                self.notify(ev.rollback_text(), severity="warning")
            elif self.finished:
                self._show_result()

    def _targets(self, targets: list[TargetState]) -> None:
        table = self.query_one("#deploy-targets", DataTable)
        for t in sorted(targets, key=lambda t: t.target_id):
            self._latest[t.target_id] = t
            cur = t.current
            failure = t.failure
            detail = ""
            if failure is not None:  # the code only: the message is in the log and diagnosis
                detail = failure.error_code or "failed"
                if failure.script_name:
                    detail += f" ({failure.script_name})"
            cells: tuple[Any, ...] = (
                t.target_id,
                _styled(t.status or "Pending", self),
                cur.name if cur else "",
                detail,
            )
            columns: tuple[str, ...] = ("status", "event", "detail")
            if self.traffic:
                cells = (*cells[:2], t.traffic, *cells[2:])
                columns = ("status", "traffic", "event", "detail")
            if t.target_id in self._rows:
                for col, value in zip(columns, cells[1:], strict=True):
                    table.update_cell(t.target_id, col, value, update_width=True)
            else:
                table.add_row(*cells, key=t.target_id)
                self._rows.add(t.target_id)

    def _finished(self, status: str) -> None:
        self.status = status
        self.finished = True
        self.refresh_bindings()
        self._write_record()
        ok = status == "Succeeded"
        self._show_result()
        self.notify(f"Deployment {status}", severity="information" if ok else "error")

    def _outcome(self) -> str:
        """'Deployment Failed.'"""
        return f"Deployment {self.status}."

    def _rollback_sentence(self) -> str:
        """How CodeDeploy's automatic rollback went, as one sentence ('' when it did not
        consider one). Said once: the live rollback line is hidden once the result shows it.

        Without a rollback deployment, `rollbackInfo.rollbackMessage` is CodeDeploy's own
        account of why (RollbackInfo, CodeDeploy API reference); when it already speaks of the
        rollback it is shown as it is, not after a 'not rolled back' that says it twice.
        """
        ev = self.rollback
        if ev is None:
            return ""
        if not ev.rollback_id and ev.message and "roll" in ev.message.lower():
            said = ev.message
        else:
            said = ev.rollback_text()
        return _sentence(said)

    def _show_result(self) -> None:
        result = self.query_one("#deploy-result", Static)
        ok = self.status == "Succeeded"
        result.set_class(ok, "-ok")
        result.set_class(not ok, "-failed")
        self.query_one("#deploy-rollback", Static).display = False  # the result says it
        if self.diagnosed and self.diagnosis is not None:
            self._show_diagnosis(self._diagnosis_text, self.diagnosis, True)
            return
        lines = [self._outcome() + ("" if ok else " Looking for the root cause…")]
        if self._rollback_sentence():
            lines.append(self._rollback_sentence())
        result.update(_prose("\n".join(lines)))

    def _failed(self, reason: str, hint: str | None) -> None:
        self.finished = True
        self.status = "Error"
        self.refresh_bindings()
        if self.handle is None:  # it stopped before a deployment existed
            self.query_one("#deploy-stage", Static).update(_prose("Not deployed."))
        result = self.query_one("#deploy-result", Static)
        result.set_class(True, "-failed")
        result.update(_prose(reason + (f"\n{hint}" if hint else "")))

    def _write_record(self) -> None:
        """The log, once the deployment has ended: each instance's lifecycle events in order."""
        if not self._latest:
            return
        log = self.query_one("#deploy-log", RichLog)
        log.clear()

        def say(line: str) -> None:
            log.write(
                _prose(line), scroll_end=False
            )  # read from the top: the failed instances first

        say(f"Deployment {self.status}: the lifecycle of each instance")
        shown = sorted(self._latest.values(), key=lambda t: (t.status != "Failed", t.target_id))
        if len(shown) > 20:  # a fleet: the failed ones, then a count of the rest
            rest = [t for t in shown if t.status != "Failed"]
            shown = [t for t in shown if t.status == "Failed"][:20]
            states = ", ".join(sorted({t.status for t in rest}))
            say(f"  ({len(rest)} more instances: {states})")
        for t in shown:
            say(f"{t.target_id}  {t.status}")
            for ev in t.events:
                line = f"  {ev.name:<18} {ev.status}"
                detail = self._details.get((t.target_id, ev.name), "")
                if detail:  # the load balancer's side: "out of web-tg", "healthy in web-tg"
                    line += f"  {detail}"
                if ev.status == "Failed" and (ev.error_code or ev.message):
                    line += f"  {ev.error_code}: {ev.message}".rstrip(": ")
                say(line)
        # after the scrolls to the end that the live lines asked for
        self.call_after_refresh(log.scroll_home, animate=False)

    def _show_diagnosis(self, text: str, doc: dict[str, Any] | None, final: bool = False) -> None:
        """The root cause, its fix and the fix's commands (whole: c copies them)."""
        self.diagnosis = doc
        self.diagnosed = final
        self._diagnosis_text = text
        if not final or doc is None:
            self.query_one("#deploy-diagnosis", Static).update(_prose(text))
            return
        results = {r.get("id"): r for r in doc.get("results") or []}
        causes = [c for c in doc.get("root_causes") or [] if c in results]
        if not causes:
            self.query_one("#deploy-result", Static).update(
                _prose("\n".join(x for x in (self._outcome(), self._rollback_sentence()) if x))
            )
            self.query_one("#deploy-diagnosis", Static).update(
                _prose("No root cause found; press d for every check's evidence.")
            )
            return
        first = results[causes[0]]
        fix = first.get("fix") or {}
        self.query_one("#deploy-result", Static).update(
            _prose(f"{self._outcome()} Root cause ({causes[0]}): {first.get('summary', '')}")
        )
        lines = []
        if fix.get("summary"):
            lines.append(f"Fix: {fix['summary']}")
        if len(causes) > 1:
            lines.append(f"Also failing: {', '.join(causes[1:])}")
        if self._rollback_sentence():
            lines.append(self._rollback_sentence())
        lines.append("Press d for the evidence and every fix.")
        self.query_one("#deploy-diagnosis", Static).update(_prose("\n".join(lines)))
        self.query_one("#deploy-commands", CommandBlock).set_commands(fix.get("commands") or [])

    # ------------------------------------------------------------------ actions
    def action_back(self) -> None:
        self._stop.set()
        self.dismiss(self.status)

    def action_diagnose(self) -> None:
        """Open the interactive diagnose screen (evidence, fixes) on this deployment."""
        if self.handle is None or not self.finished:
            return
        try:
            from wizard.screens.diagnose import DiagnoseScreen
        except ImportError:
            self.run_worker(self._run_diagnose, thread=True, exclusive=True, group="diagnose")
            return
        self.app.push_screen(
            DiagnoseScreen(
                self.ctx,
                deployment_id=self.handle.deployment_id,
                application=self.handle.application,
                deployment_group=self.handle.deployment_group,
                deploy_again=self._deploy_again,
            )
        )

    def _deploy_again(self) -> None:
        """From the diagnosis, once its fixes leave nothing failing: the same deploy, anew."""
        app = self.app
        again = DeployScreen(
            self.ctx,
            self.project,
            self.project_dir,
            file_exists_behavior=self.file_exists_behavior,
            description=self.description,
            redeploy_of=self.handle.deployment_id if self.handle is not None else self.redeploy_of,
        )
        app.pop_screen()  # the diagnosis
        app.switch_screen(again)  # this finished deployment makes way for the new one

    def action_stop_deployment(self) -> None:
        if self.handle is None or self.finished:
            return
        from wizard.widgets.dialogs import ConfirmScreen

        dep = self.handle.deployment_id

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._stop_it, thread=True, group="stop")

        self.app.push_screen(
            ConfirmScreen(f"Stop deployment {dep}? Instances keep what they have so far."),
            answered,
        )

    def _stop_it(self) -> None:
        assert self.handle is not None
        cd = self.ctx.client("codedeploy", self.handle.region)
        try:
            cd.stop_deployment(deploymentId=self.handle.deployment_id)
        except Exception as exc:
            from wizard.tui_support import one_line_reason

            self.app.call_from_thread(self.notify, one_line_reason(exc)[0], severity="error")
