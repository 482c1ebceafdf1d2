"""What every step pane shares: title and one-sentence explanation, fields, inline validation."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from wizard.tui_support import WizardState, aws_call, state_of
from wizard.widgets.field import Field


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `a.b.c` in nested dicts, creating the sections on the way."""
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[last] = value


def split_error(line: str) -> tuple[str, str]:
    """`"roles.service_role: must differ…"` → (key, rule)."""
    key, _, rule = line.partition(": ")
    return key.strip(), rule.strip() or line


class StepPane(VerticalScroll):
    """A step's body. Subclasses set STEP_ID/TITLE/INTRO and compose their own widgets.

    Fields (`wizard.widgets.field.Field`) inside the pane are collected and validated with the
    project file's own rules (`wizard.config.from_dict`) when the user presses Next.
    """

    STEP_ID: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    INTRO: ClassVar[str] = ""
    OWNS: ClassVar[tuple[str, ...]] = ()  # project-file key prefixes this step edits
    NEXT_LABEL: ClassVar[str] = "Next ▶"

    def __init__(self, **kw: Any) -> None:
        super().__init__(id=f"pane-{self.STEP_ID}", classes="step-pane", **kw)
        self.leaving = False  # set by the screen before it removes the pane (see `is_live`)

    @property
    def state(self) -> WizardState:
        """The wizard's session (answers, identity, plan …), owned by the app."""
        return state_of(self)

    def compose(self) -> ComposeResult:
        yield Static(self.TITLE, classes="step-title")
        intro = self.intro()
        if intro:
            yield Static(intro, classes="step-intro")
        yield from self.compose_body()
        yield Static("", id="pane-error", classes="pane-error")

    def compose_body(self) -> ComposeResult:
        return
        yield

    def intro(self) -> str:
        """The sentence under the title (INTRO unless the step has something to add)."""
        return self.INTRO

    # -------------------------------------------------------------- hooks for the screen
    def context_changed(self) -> None:
        """The AWS context or identity changed (another profile / region)."""

    def waiting_for(self) -> str | None:
        """What the step is still waiting for (Next is queued meanwhile), or None when ready."""
        return None

    def blocked(self) -> str | None:
        """Why Next is not possible (shown to the user; the user must act first), or None."""
        return None

    def notice(self) -> str | None:
        """A problem Next does not wait for but the user should see (shown in the nav bar)."""
        return None

    def fields(self) -> list[Field]:
        return list(self.query(Field))

    _clean: dict[str, Any] | None = None  # the answers as shown (before the user edits)

    def choices(self) -> dict[str, Any]:
        """The answers given by choosing rather than typing that no Field holds: by default the
        button pressed in each RadioSet of the pane (by id). A pane that keeps its choice
        itself (Instances) returns that instead."""
        from textual.widgets import RadioSet

        return {
            f"@{rs.id}": rs.pressed_button.id if rs.pressed_button else None
            for rs in self.query(RadioSet)
        }

    def _answers(self) -> dict[str, Any]:
        # every kind of input: typed fields, selects and checkboxes (Fields), and choices
        answers = {f.key: repr(f.value) for f in self.fields()}
        answers.update({key: repr(value) for key, value in self.choices().items()})
        return answers

    def mark_clean(self) -> None:
        """Remember the answers as they are now (shown, or chosen by the wizard itself)."""
        self._clean = self._answers()

    def edited(self) -> bool:
        """Has the user changed an answer on this step since it was shown?"""
        if self._clean is None:
            return False
        now = self._answers()
        for key, value in now.items():  # a field mounted later (a picker) starts clean
            self._clean.setdefault(key, value)
        return any(self._clean[key] != value for key, value in now.items())

    def collect(self) -> dict[str, Any]:
        """The project data with this pane's answers applied."""
        data = self.state.project.to_dict(minimal=True)
        for field in self.fields():
            set_path(data, field.key, field.value)
        return data

    def validate(self) -> Any | None:
        """The new Project if this pane's answers are valid, else None (errors shown inline)."""
        from wizard.config import from_dict
        from wizard.errors import ConfigError

        for field in self.fields():
            field.set_error(None)
        self.set_pane_error(None)
        try:
            return from_dict(self.collect())
        except ConfigError as exc:
            errors = [split_error(e) for e in exc.errors] or [("", exc.message)]
        fields = self.fields()
        mine: list[str] = []
        others: list[str] = []
        shown = False
        for key, rule in errors:
            target = next(
                (
                    f
                    for f in fields
                    if key == f.key
                    or key.startswith((f.key + ".", f.key + "["))
                    or f.key.startswith(key + ".")
                ),
                None,
            )
            if target is not None:
                target.set_error(rule)
                shown = True
            elif any(key == p or key.startswith(p) for p in self.OWNS):
                mine.append(f"{key}: {rule}")
            else:
                others.append(f"{key}: {rule} (fix it on another step or in the project file)")
        if not shown:  # with a marked field here, the rest is usually derived from it
            mine += others
        if mine:
            self.set_pane_error("\n".join(mine))
        if not shown and not mine:  # pragma: no cover - defensive
            self.set_pane_error("invalid answers")
        return None

    def set_pane_error(self, message: str | None) -> None:
        err = self.query_one("#pane-error", Static)
        err.update(f"✗ {message}" if message else "")
        err.display = bool(message)

    def leave(self) -> bool:
        """Called on Next: validate, save, return True to move on."""
        if not self.fields():
            return True
        project = self.validate()
        if project is None:
            return False
        self.state.save_project(project)
        return True

    def shown(self) -> None:
        """Called after mounting: start workers, focus the first control."""

    def resumed(self) -> None:
        """Called when the wizard screen is shown again after another screen on top of it."""

    async def replace_children(self, parent: Any, widgets: list[Any]) -> bool:
        """Swap `parent`'s children for `widgets`, unless the user has left this step.

        Held under the screen's navigation lock: a mount still going on while the pane is
        taken apart is what made Textual's Select look for its overlay after it was gone.
        Returns False when the pane was left first (nothing mounted).
        """
        from contextlib import nullcontext

        from wizard.tui_support import is_live

        lock = getattr(self.screen, "nav_lock", None)
        async with lock if lock is not None else nullcontext():
            if not is_live(self):
                return False
            await parent.remove_children()
            await parent.mount_all(widgets)
        return True


def step_context(state: WizardState, project: Any) -> Any:
    """The engine's StepContext for previews (call from a worker: it may hit STS)."""
    from wizard.steps.engine import step_context as engine_step_context

    return engine_step_context(state.ctx, project)


class PreviewMixin:
    """Show what apply would do for one step: `wizard.steps.<STEP_MODULE>.plan(sc)` in a worker
    (or, with `STEP_MODULES`, those steps' plans one after the other).

    The pane composes a `PlanSummary(id="step-plan")` and a `Static(id="step-plan-note")`.
    """

    STEP_MODULE: ClassVar[str] = ""
    STEP_MODULES: ClassVar[tuple[str, ...]] = ()

    def preview_plan(self, project: Any = None) -> None:
        from wizard.widgets.plan_table import PlanSummary, described

        pane: StepPane = self  # type: ignore[assignment]
        state = pane.state
        project = project or state.project
        note = pane.query_one("#step-plan-note", Static)
        note.update("Working out what apply would do…")

        def call() -> list[Any] | None:
            import importlib

            sc = step_context(state, project)
            changes: list[Any] = []
            for name in self.STEP_MODULES or (self.STEP_MODULE,):
                try:
                    module = importlib.import_module(f"wizard.steps.{name}")
                except ImportError:
                    return None
                changes.extend(module.plan(sc))
            return changes

        def done(changes: list[Any] | None) -> None:
            if changes is None:
                note.update("(the plan for this step is not available yet)")
                return
            pane.query_one("#step-plan", PlanSummary).set_changes(changes)
            from textual.markup import escape as esc

            conflicts = [c for c in changes if c.action == "conflict"]
            warned = [c for c in changes if getattr(c, "warning", None)]
            lines = [f"[$text-error]✗ {esc(c.name)}: {esc(described(c))}[/]" for c in conflicts]
            lines += [f"[$text-error]  fix: {esc(c.fix)}[/]" for c in conflicts if c.fix]
            # a setup that could not deploy is a problem, not a remark
            lines += [
                f"[$text-error]✗ {esc(c.warning)}[/]"
                if getattr(c, "blocks_deploy", False)
                else f"[$text-warning]! {esc(c.warning)}[/]"
                for c in warned
            ]
            note.update("\n".join(lines) or "What apply will do for this step:")

        def failed(reason: str) -> None:
            note.update(f"[$text-error]Could not work out the plan: {reason}[/]")

        aws_call(pane, call, done, what="Planning this step", on_error=failed, group="plan")

    def on_input_submitted(self, event: Any) -> None:
        """Enter in a field re-plans the step with the answers as typed (nothing is saved)."""
        pane: StepPane = self  # type: ignore[assignment]
        if pane.state.identity is None:
            return
        project = pane.validate()
        if project is not None:
            self.preview_plan(project)
