"""Step 7: the whole plan, from the setup engine: what apply will create, update, adopt or leave."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.markup import escape
from textual.widgets import OptionList, Static

from wizard.screens.steps.base import StepPane
from wizard.tui_support import aws_call
from wizard.widgets.plan_table import PlanList


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
        "Everything apply will do, worked out from what already exists; nothing has changed "
        "yet. What the wizard did not create is never overwritten: it is a conflict, with a fix."
    )
    NEXT_LABEL = "Continue ▶"

    def compose_body(self) -> ComposeResult:
        yield Static("Working out the plan…", id="plan-summary")
        yield PlanList(id="plan-list")
        yield Static("", id="plan-detail", classes="note")

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
        self.query_one("#plan-list", PlanList).set_changes(rows)
        counts = plan.counts()
        parts = [f"{counts.get(a, 0)} {a}" for a in ("create", "update", "adopt", "noop")]
        files = [r for r in rows if r.resource == "file" and r.action != "noop"]
        summary = " · ".join(parts) + f" · {len(files)} file(s) to write"
        lines = []
        if plan.conflicts:
            summary += f" · [b $text-error]{len(plan.conflicts)} conflict(s)[/]"
            lines.append("[$text-error]✗ Apply would stop at the conflicts: resolve them first.[/]")
        if plan.problems:
            summary += f" · [b $text-error]{len(plan.problems)} problem(s)[/]"
            lines += [
                f"[$text-error]✗ The first deployment would fail: {escape(c.warning or '')}[/]"
                for c in plan.problems
            ]
        state.problem_steps.discard("review")
        if plan.conflicts or plan.problems:
            state.problem_steps.add("review")
        self.query_one("#plan-summary", Static).update(
            "\n".join([f"Plan for account {plan.account} in {plan.region}: {summary}", *lines])
        )
        first = next(
            (i for i, c in enumerate(rows) if c.action == "conflict" or c.blocks_deploy), 0
        )
        if rows:
            self.query_one("#plan-list", PlanList).highlighted = first
            self._detail(first)
        self.screen.refresh_nav()  # type: ignore[attr-defined]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "plan-list" and event.option.id is not None:
            self._detail(int(event.option.id))

    def _detail(self, index: int) -> None:
        """What the highlighted change calls (the list shows the rest)."""
        rows = self.rows()
        if not 0 <= index < len(rows):
            return
        c = rows[index]
        detail = self.query_one("#plan-detail", Static)
        calls = ", ".join(c.calls) if c.calls else "none"
        detail.update(f"AWS calls for {c.name}: {calls}")
        detail.display = True

    def waiting_for(self) -> str | None:
        if self.state.plan is None and self.plan_error is None:
            return "working out the plan…"
        return None

    def blocked(self) -> str | None:
        plan = self.state.plan
        if plan is None:
            return "no plan: see the reason above"
        if plan.conflicts:
            return f"resolve {len(plan.conflicts)} conflict(s) first"
        return None

    def notice(self) -> str | None:
        plan = self.state.plan
        if plan is not None and plan.problems:
            return "the first deployment would fail"
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
