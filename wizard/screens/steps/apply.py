"""Step 8: carry out the reviewed plan with live progress per change and a log.

`wizard.steps.engine.apply_plan` runs in a thread worker; its progress callback is marshalled to
the UI with `call_from_thread`. The files are written last (`wizard.render.files.write_files`),
re-rendered with the outputs of the apply (e.g. the CI role ARN the workflow needs).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Log, Static

from wizard.screens.steps.base import StepPane
from wizard.screens.steps.review import plan_rows
from wizard.tui_support import aws_call, is_live, to_ui
from wizard.widgets.plan_table import PlanList


def deploy_role_arn(outputs: dict[str, Any]) -> str | None:
    for key in ("deploy_role_arn", "ci_role_arn", "github_role_arn"):
        if outputs.get(key):
            return str(outputs[key])
    return None


class Pane(StepPane):
    STEP_ID = "apply"
    TITLE = "Apply"
    INTRO = (
        "Makes the reviewed changes, one by one. Safe to re-run: what exists with the "
        "wizard's tag is adopted, not created twice."
    )

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="buttons"):
            yield Button("Apply now", id="apply-start", variant="success", compact=True)
            yield Static("", id="apply-status", classes="note")
        yield PlanList(progress=True, id="apply-list")
        yield Log(id="apply-log", highlight=False)

    def shown(self) -> None:
        state = self.state
        self.rows = plan_rows(state) if state.plan is not None else []
        status = self.query_one("#apply-status", Static)
        if state.applied:
            status.update(_applied_words(state))
            self.query_one("#apply-start", Button).label = "Plan again"
        elif state.plan is None:
            status.update("Go back to Review to build the plan first.")
            self.query_one("#apply-start", Button).disabled = True
        else:
            n = sum(1 for r in self.rows if r.action in ("create", "update", "adopt"))
            status.update(f"{n} change(s) to make. Press Apply now to start.")
        self.query_one("#apply-list", PlanList).set_changes(self.rows)

    def waiting_for(self) -> str | None:
        return "applying…" if self.state.applying else None

    def blocked(self) -> str | None:
        state = self.state
        if not state.applied:
            return "apply the plan first"
        return None

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply-start":
            event.stop()
            if self.state.applied:  # the plan is spent: work it out again from the account
                self.screen.goto("review")  # type: ignore[attr-defined]
            else:
                self.start_apply()

    def log_line(self, text: str) -> None:
        self.query_one("#apply-log", Log).write_line(text)

    def start_apply(self) -> None:
        state = self.state
        if state.applying or state.plan is None:
            return
        state.applying = True
        state.applied = False
        state.files_problem = None
        self.query_one("#apply-start", Button).disabled = True
        self.query_one("#apply-status", Static).update("Applying…")
        self.screen.refresh_nav()  # type: ignore[attr-defined]
        table = self.query_one("#apply-list", PlanList)
        table.set_changes(self.rows)
        index = {id(c): i for i, c in enumerate(self.rows)}
        plan = state.plan
        project = state.project
        ctx = state.ctx
        file_rows = [i for i, r in enumerate(self.rows) if r.step == "files"]
        ui = to_ui(self)

        def progress_ui(i: int | None, name: str, state: str, message: str) -> None:
            if i is not None:
                table.set_state(i, state)
            mark = {"start": "…", "done": "✓", "failed": "✗"}.get(state, "·")
            self.log_line(f"{mark} {name}: {message}" if message else f"{mark} {name}")

        def progress(change: Any, state: str, message: str) -> None:
            ui(
                progress_ui,
                index.get(id(change)),
                f"{change.resource} {change.name}",
                state,
                message or "",
            )

        def run() -> Any:
            from wizard.projectlock import project_lock

            # one apply at a time per project folder, the CLI's included (ProjectBusy: one line)
            with project_lock(state.project_dir, "setup"):
                return locked_run()

        def locked_run() -> Any:
            from wizard.steps.engine import apply_plan

            result = apply_plan(ctx, project, plan, progress=progress)
            if getattr(result, "error", None) is not None:
                raise result.error
            for i in file_rows:
                ui(progress_ui, i, self.rows[i].name, "start", "")
            if file_rows:
                from wizard.render.files import plan_files, write_files

                changes = plan_files(
                    project,
                    state.project_dir,
                    account=ctx.account,
                    region=project.effective_region(ctx.region),
                    deploy_role_arn=deploy_role_arn(getattr(result, "outputs", {}) or {}),
                )
                from wizard.fileio import NotWritable

                try:
                    written = write_files([c for c in changes if c.changed or c.old_text is None])
                except NotWritable as exc:  # a read-only folder: the AWS part still stands
                    for i in file_rows:
                        ui(progress_ui, i, self.rows[i].name, "failed", exc.reason)
                    state.files_problem = exc.one_line()
                    later = (
                        # the embedded emulator, and what the apply made in it, ends with the app
                        "run the wizard again in a folder you can write"
                        if state.embedded_sandbox
                        else "write the files later with `wizard files` in a folder you can write"
                    )
                    line = f"Files not written: {exc.one_line()}. The AWS setup is done; {later}."
                    ui(self.log_line, f"✗ {line}")
                    state.tell(line)
                    return result
                for path in written:
                    ui(self.log_line, f"  backup kept: {path}")
            for i in file_rows:
                ui(progress_ui, i, self.rows[i].name, "done", "written")
            return result

        # the app owns the worker: whatever happens to this pane, the state must learn the outcome
        def done(result: Any) -> None:
            state.applying = False
            state.applied = True
            state.apply_result = result
            state.problem_steps.discard("apply")
            if not is_live(self):
                return
            self.query_one("#apply-status", Static).update(_applied_words(state))
            button = self.query_one("#apply-start", Button)
            button.label = "Plan again"
            button.disabled = False
            self.screen.query_one("#next", Button).focus()
            self.screen.refresh_nav()  # type: ignore[attr-defined]

        def failed(reason: str) -> None:
            state.applying = False
            state.problem_steps.add("apply")
            if not is_live(self):
                return
            self.log_line(f"✗ {reason}")
            self.query_one("#apply-status", Static).update(f"[$text-error]✗ {reason}[/]")
            self.query_one("#apply-start", Button).disabled = False
            self.screen.refresh_nav()  # type: ignore[attr-defined]

        aws_call(self.app, run, done, what="Apply", on_error=failed, group="apply")


def _applied_words(state: Any) -> str:
    """Apply's status line once it has ended: a ✓ only for what was done."""
    if state.files_problem:
        return (
            "[$text-success]✓ AWS setup applied[/]; [$text-error]✗ the files were not "
            "written[/] (see the list). Continue to see the next steps."
        )
    return "[$text-success]✓ Applied.[/] Continue to see the next steps."
