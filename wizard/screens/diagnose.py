"""DiagnoseScreen: the checks as rows that fill in live, a detail pane with evidence and fix, and a
Fix button that shows the automatic fixes as a plan and applies them after confirmation.

All AWS work runs in thread workers (`checks.runner.diagnose`, `checks.fixes.apply_fixes`); results
come back to the UI thread with `call_from_thread`. The screen dismisses with the last Report (or
None). `DiagnoseApp` hosts it for `wizard diagnose` on a terminal; the wizard app pushes the screen.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Static

from wizard.tui_support import to_ui
from wizard.widgets.command_block import CommandBlock
from wizard.widgets.dialogs import DismissOnce
from wizard.widgets.wrap_table import WrapTable

if TYPE_CHECKING:  # pragma: no cover
    from checks.fixes import PlannedFix
    from checks.model import Result
    from checks.runner import Report

_STYLE = {
    "pass": "green",
    "info": "blue",
    "warn": "yellow",
    "skip": "dim",
    "fail": "bold red",
    "error": "bold magenta",
}


def _cell(text: str, style: str = "") -> Any:
    from rich.text import Text

    return Text(text, style=style)


def _prose(text: Any, style: str = "", max_lines: int | None = None) -> Any:
    """Text that wraps at spaces and breaks a path, URI, ARN or id only at a boundary ('/',
    '-', ',' …), never mid-word (`wizard.widgets.breakable`)."""
    from wizard.widgets.breakable import Breakable

    return Breakable(text, style, max_lines=max_lines)


class FixPlanScreen(DismissOnce, ModalScreen[bool]):
    """The automatic fixes as a numbered plan; dismisses True when the user applies them."""

    DEFAULT_CSS = """
    FixPlanScreen { align: center middle; }
    FixPlanScreen > Vertical { width: 90; max-width: 95%; height: auto; border: thick $warning;
        background: $surface; padding: 1 2; }
    FixPlanScreen #fix-plan { margin: 1 0; }
    FixPlanScreen Horizontal { height: auto; align-horizontal: right; }
    FixPlanScreen Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, fixes: list[PlannedFix]) -> None:
        super().__init__()
        self.fixes = fixes

    def compose(self) -> ComposeResult:
        lines = [
            f"{i}. [{f.check_id}] {f.description}\n   calls: {', '.join(f.calls)}"
            for i, f in enumerate(self.fixes, 1)
        ]
        with Vertical():
            yield Static("[b]Apply these fixes?[/b] Nothing is deleted or detached.")
            yield Static("\n".join(lines), id="fix-plan", markup=False)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Apply", id="apply", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "apply")

    def action_cancel(self) -> None:
        self.dismiss(False)


class DiagnoseScreen(DismissOnce, Screen["Report | None"]):
    """Diagnose a deployment (or a group, preflight) with live rows and fixes.

    Readable at 80 columns: the check titles keep their width and the results wrap; the detail
    sits under the table (beside it from 140 columns); the fix's commands are shown whole (c
    copies them). `Fix…` is offered only when an automatic fix exists; once fixes are applied
    the affected checks run again, the root cause is ranked again, and when nothing fails any
    more `Deploy again` is offered (with a `deploy_again` callback from the host).
    """

    DEFAULT_CSS = """
    DiagnoseScreen #diag-title { padding: 0 1; text-style: bold; }
    DiagnoseScreen #diag-status { padding: 0 1; color: $text-muted; }
    DiagnoseScreen #diag-status.-failed { color: $error; }
    DiagnoseScreen #diag-status.-ok { color: $success; }
    DiagnoseScreen #diag-body { height: 1fr; layout: vertical; }
    DiagnoseScreen #diag-checks { width: 1fr; height: 1fr; }
    DiagnoseScreen #diag-detail { width: 1fr; height: 1fr; border: round $panel; padding: 0 1; }
    DiagnoseScreen.-wide #diag-body { layout: horizontal; }
    DiagnoseScreen.-wide #diag-checks { width: 3fr; height: 1fr; }
    DiagnoseScreen.-wide #diag-detail { width: 2fr; height: 1fr; }
    DiagnoseScreen #diag-detail > Static { height: auto; }
    DiagnoseScreen #diag-commands { margin: 0 0 1 0; }
    /* the root cause and its whole fix: scrolls, with a scrollbar, when a short terminal
       cannot show it all (focus it with tab, then ↑ ↓) */
    DiagnoseScreen #diag-root-box { height: auto; max-height: 6; padding: 0 0 0 1;
        scrollbar-size-vertical: 1; }
    DiagnoseScreen #diag-root-box:focus { background-tint: $foreground 5%; }
    DiagnoseScreen #diag-root { height: auto; }
    DiagnoseScreen.-tall #diag-root-box { max-height: 10; }
    DiagnoseScreen #diag-buttons { height: auto; padding: 0 1; }
    DiagnoseScreen #diag-buttons Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "rerun", "Run again"),
        Binding("f", "fix", "Fix…"),
        Binding("c", "copy_commands", "Copy commands"),
        Binding("d", "deploy_again", "Deploy again"),
    ]
    WIDE = 140  # from this many columns the detail sits beside the table

    def __init__(
        self,
        ctx: Any,
        *,
        deployment_id: str | None = None,
        application: str | None = None,
        deployment_group: str | None = None,
        check_ids: list[str] | None = None,
        preflight: bool = False,
        local: bool = False,
        deploy_again: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.deployment_id = deployment_id
        self.application = application
        self.deployment_group = deployment_group
        self.check_ids = check_ids
        self.preflight = preflight
        self.local = local
        self.deploy_again = deploy_again
        self.report: Report | None = None
        self.results: dict[str, Result] = {}
        self.busy = False
        self.fixing = False  # automatic fixes are being applied
        self.fixes_applied = False
        self.error: str | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        badge = "[reverse] SANDBOX [/reverse] " if getattr(self.ctx, "sandbox", False) else ""
        what = self.deployment_id or " / ".join(
            x for x in (self.application, self.deployment_group) if x
        )
        kind = "Preflight of" if self.preflight else "Diagnose"
        yield Static(f"{badge}{kind} {what}", id="diag-title")
        yield Static("Gathering evidence…", id="diag-status", markup=False)
        with Container(id="diag-body"):
            yield WrapTable(
                wrap="result",
                caps={"check": 0.4},
                max_lines=4,  # the detail pane below shows the whole result
                id="diag-checks",
                cursor_type="row",
                zebra_stripes=True,
            )
            with VerticalScroll(id="diag-detail"):
                yield Static("Select a check to see its evidence and fix.", id="diag-detail-text")
                yield CommandBlock(id="diag-commands")
                yield Static("", id="diag-detail-more")
        with VerticalScroll(id="diag-root-box", can_focus=True):
            yield Static("", id="diag-root", markup=False)
        with Horizontal(id="diag-buttons"):
            yield Button("Fix…", id="diag-fix", variant="warning", compact=True)
            yield Button("Run again", id="diag-rerun", disabled=True, compact=True)
            yield Button("Deploy again", id="diag-deploy", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        from checks import registry

        table = self.query_one("#diag-checks", WrapTable)
        table.add_column(" ", key="mark", width=3)
        table.add_column("Check", key="check")
        table.add_column("Result", key="result")
        try:
            selected = registry.select(self.check_ids)
        except KeyError:
            selected = registry.all_checks()
        if not self.local and not self.check_ids:
            selected = [c for c in selected if not c.id.startswith("local.")]
        for c in selected:
            table.add_row(
                _cell("…", "dim"), c.title, _cell("waiting", "dim"), key=c.id, height=None
            )
        self.call_after_refresh(table.fit, force=True)
        self.app.theme_changed_signal.subscribe(self, self._retheme)
        self._set_buttons()
        self._start()

    def on_resize(self, event: Any) -> None:
        self.set_class(event.size.width >= self.WIDE, "-wide")
        self.set_class(event.size.height >= 40, "-tall")

    def _retheme(self, _theme: Any = None) -> None:
        """Recolour the finished rows and the detail for the new theme."""
        table = self.query_one("#diag-checks", DataTable)
        for result in list(self.results.values()):
            self._on_result(result, quiet=True)
        if table.row_count and table.cursor_row is not None:
            self._show(self._row_key(table.cursor_row))

    # ------------------------------------------------------------------ workers (threads)
    def _start(self) -> None:
        self.busy = True
        self._set_buttons()
        self.run_worker(self._work, thread=True, exclusive=True, group="diagnose")

    def _work(self) -> None:
        from checks.runner import diagnose

        ui = to_ui(self)
        try:
            report = diagnose(
                self.ctx,
                deployment_id=self.deployment_id,
                application=self.application,
                deployment_group=self.deployment_group,
                check_ids=self.check_ids,
                preflight=self.preflight,
                local=self.local,
                on_result=lambda r: ui(self._on_result, r),
            )
        except Exception as exc:
            ui(self._failed, exc)
            return
        ui(self._done, report)

    def _apply(self, fixes: list[PlannedFix]) -> None:
        """Apply the fixes, run the checks they touch (and those depending on them) again, and
        rank the root causes again (`checks.fixes.rerun`)."""
        import inspect

        from checks import fixes as fixes_mod

        ui = to_ui(self)
        assert self.report is not None
        outcomes = fixes_mod.apply_fixes(
            self.ctx, fixes, progress=lambda f, st, msg: ui(self._fix_progress, f, st, msg)
        )
        done = [o.fix for o in outcomes if o.ok]
        extra: dict[str, Any] = {}
        if "outcomes" in inspect.signature(fixes_mod.rerun).parameters:
            extra["outcomes"] = outcomes  # Report.applied says what changed, in words
        try:
            report = fixes_mod.rerun(
                self.ctx, self.report, done, on_result=lambda r: ui(self._on_result, r), **extra
            )
        except Exception as exc:
            ui(self._failed, exc)
            return
        failed = [o for o in outcomes if not o.ok]
        ui(
            self._fixed,
            report,
            bool(done),
            f"{len(done)} fix(es) applied" + (f", {len(failed)} failed" if failed else ""),
        )

    # ------------------------------------------------------------------ UI thread
    def _gone(self) -> bool:
        """The user left the screen while a worker ran: what it reports has nowhere to go (a
        query on the removed screen would raise NoMatches into the worker and crash the app)."""
        return not self.is_attached

    def _on_result(self, result: Result, quiet: bool = False) -> None:
        self.results[result.id] = result
        if self._gone():
            return
        table = self.query_one("#diag-checks", DataTable)
        from wizard.widgets.plan_table import themed

        style = themed(self, _STYLE[result.status.value])
        try:
            table.update_cell(result.id, "mark", _cell(f"[{result.status.symbol}]", style))
            table.update_cell(
                result.id,
                "result",
                # at most 4 lines: the detail pane shows the whole result
                _prose(result.summary, style if result.status.problem else "", max_lines=4),
            )
        except Exception:  # a row not on screen (e.g. a prerequisite): nothing to update
            return
        if quiet:
            return
        done = len(self.results)
        self._status(f"{done} of {table.row_count} checks done…")
        if table.cursor_row is not None and self._row_key(table.cursor_row) == result.id:
            self._show(result.id)

    def _fixed(self, report: Report, applied: bool, note: str) -> None:
        self.fixing = False
        self.fixes_applied = self.fixes_applied or applied
        self._done(report, note)

    def _done(self, report: Report, note: str | None = None) -> None:
        from checks.reporters import text as text_reporter

        self.report = report
        self.busy = False
        for r in report.results:
            self.results[r.id] = r
        if self._gone():
            return
        for r in report.results:
            self._on_result(r, quiet=True)  # a re-ranked report may carry a re-pointed fix
        line = text_reporter.summary_line(report, fix_hint="press f")
        self._status((note + ". " if note else "") + line, ok=report.exit_code == 0)
        self.query_one("#diag-root", Static).update(_prose(self._root_text(report)))
        self._set_buttons()
        table = self.query_one("#diag-checks", DataTable)
        target = report.root_causes[0] if report.root_causes else None
        if target is not None:
            keys = [self._row_key(i) for i in range(table.row_count)]
            if target in keys:
                row = keys.index(target)
                table.move_cursor(row=row)
                # after the next layout too: on a first report the table has not been sized yet
                self.call_after_refresh(table.move_cursor, row=row, scroll=True)
                self._show(target)
        elif table.row_count and table.cursor_row is not None:
            self._show(self._row_key(table.cursor_row))

    def _root_text(self, report: Report) -> str:
        """The closing lines: the root cause in words, or that the fixes leave nothing failing."""
        from checks.reporters import text as text_reporter

        # this screen's keys, not the CLI's commands (d only where the host can deploy)
        deploy_hint = "press d" if self.deploy_again is not None else "wizard deploy"
        lines = [
            ln
            for ln in text_reporter.root_cause_lines(
                report, fix_hint="press f", deploy_hint=deploy_hint
            )
            if not ln.startswith("  $ ")  # the commands are in the detail pane, whole
        ]
        if not lines:
            if self._ready_to_redeploy():
                lines = ["The fixes leave nothing failing: deploy again to see them work."]
            elif report.exit_code == 0:
                lines = ["No root cause: nothing failed."]
        groups = self._groups(report)
        if groups and report.root_causes:
            lines.append(groups)
        return "\n".join(lines)

    def _ready_to_redeploy(self) -> bool:
        """Fixes applied, nothing fails any more, yet the deployment did not succeed."""
        report = self.report
        if report is None:
            return False
        ready = getattr(report, "ready_to_redeploy", None)
        if ready is not None:
            return bool(ready)
        failing = [r for r in report.results if r.status.problem and r.id != "deployment.status"]
        return self.fixes_applied and not failing

    def _automatic_fixes(self) -> list[PlannedFix]:
        from checks.fixes import plan_fixes

        return plan_fixes(self.report) if self.report is not None else []

    def _failed(self, exc: BaseException) -> None:
        from wizard.aws import explain

        mapped = explain(exc)
        self.error = mapped.one_line() if mapped else f"{type(exc).__name__}: {exc}"
        self.busy = False
        self.fixing = False
        if self._gone():
            return
        self._status(f"diagnose failed: {self.error}", ok=False)
        # the rows still waiting will not run: say so instead of looking busy forever
        table = self.query_one("#diag-checks", DataTable)
        for i in range(table.row_count):
            key = self._row_key(i)
            if key not in self.results:
                table.update_cell(key, "mark", _cell("–", "dim"))
                table.update_cell(key, "result", _cell("not run", "dim"))
        if table.row_count:
            self._show(self._row_key(table.cursor_row))
        self._set_buttons()

    def _fix_progress(self, fix: PlannedFix, state: str, message: str) -> None:
        if self._gone():
            return
        mark = {"start": "…", "done": "✓", "failed": "✗"}.get(state, "")
        self._status(f"{mark} {fix.description}: {message}" if state != "start" else f"… {message}")

    @staticmethod
    def _groups(report: Report) -> str:
        dep = report.result("deployment.status")
        rows = (dep.evidence.get("failures") if dep else None) or []
        lines = []
        for g in rows[:4]:
            of = f" of {g['of']}" if g.get("of") else ""
            where = f"{g['event']}: " if g.get("event") else ""
            lines.append(f"  {g['count']}{of} instances — {where}{g['explanation']}")
        return "\n".join(lines)

    def _status(self, text: str, ok: bool | None = None) -> None:
        status = self.query_one("#diag-status", Static)
        status.update(text)
        status.set_class(ok is True, "-ok")
        status.set_class(ok is False, "-failed")

    def _set_buttons(self) -> None:
        """Fix… only when an automatic fix exists; Deploy again once the fixes leave nothing
        failing (and the host can deploy)."""
        fix = self.query_one("#diag-fix", Button)
        fix.display = bool(self._automatic_fixes())
        fix.disabled = self.busy
        self.query_one("#diag-rerun", Button).disabled = self.busy
        again = self.query_one("#diag-deploy", Button)
        again.display = self.deploy_again is not None and self._ready_to_redeploy()
        again.disabled = self.busy
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Fix… and Deploy again appear in the footer only when they can do something."""
        if action == "fix":
            return bool(self._automatic_fixes()) and not self.busy
        if action == "deploy_again":
            return self.deploy_again is not None and self._ready_to_redeploy() and not self.busy
        if action == "copy_commands":
            return bool(self.query_one("#diag-commands", CommandBlock).commands)
        return True

    def _row_key(self, row: int) -> str:
        table = self.query_one("#diag-checks", DataTable)
        return str(table.coordinate_to_cell_key((row, 0)).row_key.value)

    def _show(self, check_id: str) -> None:
        detail = self.query_one("#diag-detail-text", Static)
        commands = self.query_one("#diag-commands", CommandBlock)
        more = self.query_one("#diag-detail-more", Static)
        r = self.results.get(check_id)
        if r is None:
            commands.set_commands([])
            more.update("")
            if self.error and not self.busy:
                detail.update(f"No checks ran: {self.error}\nFix that, then press r to run again.")
            else:
                detail.update(f"{check_id}: waiting…")
            self.refresh_bindings()
            return
        from rich.text import Text

        from wizard.widgets.plan_table import themed

        t = Text()
        t.append(f"{r.title}\n", style="bold")
        t.append(f"{r.id} · {r.status.value.upper()}\n", style=themed(self, _STYLE[r.status.value]))
        t.append(f"{r.summary}\n")
        shown_commands: list[str] = []
        if r.fix and (r.status.problem or r.status.value == "warn"):
            automatic = getattr(r, "has_automatic_fix", r.fix.automatic)
            t.append("\nFix", style="bold")
            t.append(" (automatic: press f)\n" if automatic else "\n", style="dim")
            t.append(f"{r.fix.summary}\n")
            shown_commands = list(r.fix.commands)
            if shown_commands:
                t.append("Commands (c copies them):", style="dim")
        detail.update(_prose(t))
        commands.set_commands(shown_commands, style=themed(self, "cyan"))
        m = Text()
        if r.instances:
            shown = ", ".join(r.instances[:30])
            extra = f" (+{len(r.instances) - 30})" if len(r.instances) > 30 else ""
            m.append(f"Instances ({len(r.instances)})\n", style="bold")
            m.append(f"{shown}{extra}\n\n")
        if r.evidence:
            m.append("Evidence\n", style="bold")
            m.append(json.dumps(r.evidence, indent=2, default=str)[:6000])
        more.update(_prose(m))
        self.refresh_bindings()

    # ------------------------------------------------------------------ events and actions
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self._show(str(event.row_key.value))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "diag-fix":
            self.action_fix()
        elif event.button.id == "diag-rerun":
            self.action_rerun()
        elif event.button.id == "diag-deploy":
            self.action_deploy_again()

    def action_copy_commands(self) -> None:
        self.query_one("#diag-commands", CommandBlock).action_copy()

    def action_rerun(self) -> None:
        if self.busy:
            return
        self.results.clear()
        self.error = None
        table = self.query_one("#diag-checks", DataTable)
        for i in range(table.row_count):
            key = self._row_key(i)
            table.update_cell(key, "mark", _cell("…", "dim"))
            table.update_cell(key, "result", _cell("waiting", "dim"))
        self._status("Gathering evidence…")
        self._start()

    def action_fix(self) -> None:
        if self.busy or self.report is None:
            return
        fixes = self._automatic_fixes()
        if not fixes:
            self.notify("No automatic fix applies; the fixes shown are for you to run.")
            return

        def answered(apply: bool | None) -> None:
            if apply:
                self.busy = True
                self.fixing = True
                self._set_buttons()
                self._status("Applying fixes…")
                self.run_worker(
                    lambda: self._apply(fixes), thread=True, exclusive=True, group="diagnose"
                )

        self.app.push_screen(FixPlanScreen(fixes), answered)

    def action_deploy_again(self) -> None:
        """A new deployment of the same revision source, now that the fixes are in."""
        if self.deploy_again is None or self.busy or not self._ready_to_redeploy():
            return
        self.deploy_again()

    def action_back(self) -> None:
        self.dismiss(self.report)


class DiagnoseApp(App[int]):
    """`wizard diagnose` on a terminal: the screen alone; `report` holds the last result.

    Once the screen's fixes leave nothing failing it offers Deploy again, as it does when
    reached from Deploy: here there is no project to bundle, so the diagnosed deployment's
    revision is deployed again to its group (`DeployScreen(redeploy_of=…)`); the fixes were
    outside the bundle, so the same bytes are what must now succeed. `redeployed` holds
    (deployment id, final status) and the app exits 0 only when that deployment succeeded.
    """

    TITLE = "wizard diagnose"

    def __init__(self, ctx: Any, **kw: Any) -> None:
        super().__init__()
        self.ctx = ctx
        self._diagnose_kw = kw
        self.report: Report | None = None
        self.redeployed: tuple[str, str] | None = None
        self._diagnose: DiagnoseScreen | None = None
        self._redeploy: Any = None

    def on_mount(self) -> None:
        kw = dict(self._diagnose_kw)
        if not kw.get("preflight"):
            kw.setdefault("deploy_again", self._deploy_again)
        self._diagnose = DiagnoseScreen(self.ctx, **kw)
        self.push_screen(self._diagnose, self._on_diagnose_closed)

    def _deploy_again(self) -> None:
        from wizard.screens.deploy import DeployScreen

        screen = self._diagnose
        assert screen is not None
        dep = screen.deployment_id or ((screen.report and screen.report.deployment) or {}).get("id")
        if not dep:
            self.notify("No deployment to deploy again.", severity="error")
            return
        self._redeploy = DeployScreen(self.ctx, None, redeploy_of=dep)
        self.push_screen(self._redeploy, self._on_redeployed)

    def _on_redeployed(self, status: str | None) -> None:
        handle = getattr(self._redeploy, "handle", None)
        if handle is None:  # left before the deployment was created: back to the diagnosis
            return
        self.report = self._diagnose.report if self._diagnose is not None else None
        self.redeployed = (handle.deployment_id, status or "")
        self.exit(0 if status == "Succeeded" else 1)

    def _on_diagnose_closed(self, report: Report | None) -> None:
        self.report = report
        self.exit(report.exit_code if report is not None else 1)
