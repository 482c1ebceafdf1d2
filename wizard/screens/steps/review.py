"""Step 7: the whole plan, from the setup engine: what apply will create, update, adopt or leave."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from wizard.screens.steps.base import StepPane
from wizard.tui_support import aws_call
from wizard.widgets.plan_table import PlanTable


def build_full_plan(state: Any) -> tuple[Any, list[Any] | None]:
    """The engine's plan and the file changes, in one worker call."""
    from wizard.steps.engine import build_plan

    plan = build_plan(state.ctx, state.project)
    try:
        from wizard.render.files import plan_files
    except ImportError:
        return plan, None
    project = state.project
    files = plan_files(
        project,
        state.project_dir,
        account=state.ctx.account,
        region=project.effective_region(state.ctx.region),
    )
    return plan, files


class Pane(StepPane):
    STEP_ID = "review"
    TITLE = "Review"
    INTRO = (
        "Everything apply will do, worked out from what already exists. Nothing has been "
        "changed yet. Anything the wizard did not create is never overwritten: it shows up "
        "as a conflict with a fix."
    )
    NEXT_LABEL = "Continue ▶"

    def compose_body(self) -> ComposeResult:
        yield Static("Working out the plan…", id="plan-summary")
        yield PlanTable(id="plan-table")
        yield Static("", id="plan-detail", classes="box")

    plan_error: str | None = None  # why the plan could not be worked out

    def shown(self) -> None:
        self.state.plan = None
        self.query_one("#plan-detail").display = False
        self.load_plan()

    def context_changed(self) -> None:
        if self.state.identity and self.state.plan is None:
            self.load_plan()

    def load_plan(self) -> None:
        state = self.state
        if state.identity is None:
            return

        def done(result: tuple[Any, list[Any] | None]) -> None:
            plan, files = result
            state.plan = plan
            state.file_changes = files
            self.show_plan()

        def failed(reason: str) -> None:
            self.plan_error = reason
            state.problem_steps.add("review")
            self.query_one("#plan-summary", Static).update(f"[$text-error]✗ {reason}[/]")
            self.screen.refresh_nav()  # type: ignore[attr-defined]

        self.plan_error = None
        self.query_one("#plan-summary", Static).update("Working out the plan…")
        self.screen.refresh_nav()  # type: ignore[attr-defined]
        aws_call(
            self, lambda: build_full_plan(state), done, what="Building the plan", on_error=failed
        )

    def rows(self) -> list[Any]:
        """Plan changes plus one row per file that apply will write."""
        return plan_rows(self.state)

    def show_plan(self) -> None:
        state = self.state
        plan = state.plan
        rows = self.rows()
        self.query_one("#plan-table", PlanTable).set_changes(rows)
        counts = plan.counts()
        parts = [f"{counts.get(a, 0)} {a}" for a in ("create", "update", "adopt", "noop")]
        files = [r for r in rows if r.resource == "file" and r.action != "noop"]
        summary = " · ".join(parts) + f" · {len(files)} file(s) to write"
        if plan.conflicts:
            summary += f" · [b red]{len(plan.conflicts)} conflict(s)[/]"
            state.problem_steps.add("review")
        else:
            state.problem_steps.discard("review")
        self.query_one("#plan-summary", Static).update(
            f"Plan for account {plan.account} in {plan.region}: {summary}"
        )
        if rows:
            self._detail(0)
        self.screen.refresh_nav()  # type: ignore[attr-defined]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key is not None else None
        if event.data_table.id == "plan-table" and key is not None:
            self._detail(int(key))

    def _detail(self, index: int) -> None:
        rows = self.rows()
        if not 0 <= index < len(rows):
            return
        c = rows[index]
        lines = [f"[b]{c.action}[/b] {c.resource} [b]{c.name}[/b]", c.description]
        if c.calls:
            lines.append("calls: " + ", ".join(c.calls))
        if getattr(c, "warning", None):
            lines.append(f"[$text-warning]! {c.warning}[/]")
        if c.fix:
            lines.append(f"[$text-error]fix: {c.fix}[/]")
        detail = self.query_one("#plan-detail", Static)
        detail.update("\n".join(lines))
        detail.display = True

    def waiting_for(self) -> str | None:
        if self.state.plan is None and self.plan_error is None:
            return "working out the plan…"
        return None

    def blocked(self) -> str | None:
        plan = self.state.plan
        if plan is None:
            return "the plan could not be worked out: Retry, or go back and change the answers"
        if plan.conflicts:
            return f"resolve {len(plan.conflicts)} conflict(s) first"
        return None


def plan_rows(state: Any) -> list[Any]:
    """The plan's changes followed by file writes, as Change objects (files: step "files")."""
    from wizard.steps.base import Change

    rows: list[Any] = list(state.plan.changes) if state.plan is not None else []
    for fc in state.file_changes or []:
        path = str(fc.path)
        try:
            from pathlib import Path

            path = str(Path(fc.path).relative_to(state.project_dir))
        except ValueError:
            pass
        if fc.old_text is None:
            action, what = "create", "write a new file"
        elif fc.changed:
            action, what = "update", "merge into the existing file (a backup is kept)"
        else:
            action, what = "noop", "already up to date"
        rows.append(
            Change(step="files", resource="file", name=path, action=action, description=what)
        )
    return rows
