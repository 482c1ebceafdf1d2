"""The main screen: context bar, the step list beside the current step, Back / Next, footer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, OptionList, Static

from wizard.screens.steps import STEP_IDS, STEPS, TITLES, pane_class
from wizard.tui_support import WizardState, state_of
from wizard.widgets.context_bar import ContextBar
from wizard.widgets.step_list import StepList

if TYPE_CHECKING:
    from wizard.screens.steps.base import StepPane


class WizardScreen(Screen):
    """Shows one step pane at a time; panes are mounted on demand and read the app's state."""

    BINDINGS = [
        Binding("ctrl+n", "next", "Next", priority=True),
        Binding("ctrl+b", "back", "Back", priority=True),
    ]

    def __init__(self, start: str = "credentials") -> None:
        super().__init__()
        self.current = start if start in STEP_IDS else "credentials"
        self.pane: StepPane | None = None

    @property
    def state(self) -> WizardState:
        return state_of(self)

    def compose(self) -> ComposeResult:
        state = self.state
        yield ContextBar(
            region=state.ctx.region,
            profile=state.ctx.profile,
            sandbox=bool(state.ctx.sandbox),
            id="context-bar",
        )
        with Horizontal(id="body"):
            yield StepList(
                STEPS, self.current, state.done_steps, state.problem_steps, id="step-list"
            )
            with Vertical(id="main"):
                # the first pane is composed with the screen: one layout pass before the first frame
                self.pane = pane_class(self.current)()
                yield Container(self.pane, id="pane-host")
                with Horizontal(id="nav"):
                    yield Button("◀ Back", id="back", compact=True)
                    yield Static("", id="nav-hint")
                    yield Button("Next ▶", id="next", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._refresh_nav()
        self.call_after_refresh(self.state.remember_step, self.current)
        # AWS work starts once the first frame is on screen (its threads compete for the GIL)
        self.call_after_refresh(self._pane_shown, self.pane)

    # ------------------------------------------------------------------ navigation
    async def _show(self, step: str) -> None:
        host = self.query_one("#pane-host", Container)
        await host.remove_children()
        self.current = step
        self.pane = pane_class(step)()
        await host.mount(self.pane)
        self._refresh_nav()
        self.state.remember_step(step)
        self.call_after_refresh(self._pane_shown, self.pane)

    def _pane_shown(self, pane: StepPane) -> None:
        if pane is self.pane and pane.is_attached:
            pane.shown()
            self._focus_pane()

    def _focus_pane(self) -> None:
        if self.pane is None or not self.pane.is_attached:
            return
        for widget in self.pane.query("*"):
            if widget.focusable:
                widget.focus(scroll_visible=False)
                return
        self.query_one("#next", Button).focus()

    def _refresh_nav(self) -> None:
        index = STEP_IDS.index(self.current)
        back = self.query_one("#back", Button)
        nxt = self.query_one("#next", Button)
        back.disabled = index == 0 or self.state.applying
        nxt.label = self.pane.NEXT_LABEL if self.pane else "Next ▶"
        nxt.display = index < len(STEP_IDS) - 1
        reason = self.pane.blocked() if self.pane else None
        nxt.disabled = bool(reason)
        self.query_one("#nav-hint", Static).update(reason or f"step {index + 1} of {len(STEPS)}")
        self.query_one(StepList).set_marks(
            self.current, self.state.done_steps, self.state.problem_steps
        )

    def refresh_nav(self) -> None:
        """Panes call this when what blocks Next changes (a worker finished, …)."""
        if self.is_attached:
            self._refresh_nav()

    def context_changed(self) -> None:
        state = self.state
        ident = state.identity
        self.query_one(ContextBar).update_context(
            account=ident["account"] if ident else None,
            region=state.ctx.region,
            profile=state.ctx.profile,
            sandbox=bool(state.ctx.sandbox),
        )
        if self.pane is not None and self.pane.is_attached:
            self.pane.context_changed()
            self._refresh_nav()

    def goto(self, step: str, *, force: bool = False) -> None:
        """Jump to a step: any step already reached, or (force: palette) any step at all."""
        if step not in STEP_IDS or step == self.current:
            return
        if self.state.applying:
            self.notify("Wait for apply to finish first.", severity="warning")
            return
        target = STEP_IDS.index(step)
        reachable = {STEP_IDS[0], *self.state.done_steps}
        if not force and step not in reachable and target > STEP_IDS.index(self.current):
            self.notify(f"Finish {TITLES[self.current]!r} first.", severity="warning")
            self.query_one(StepList).highlighted = STEP_IDS.index(self.current)
            return
        self.run_worker(self._show(step), exclusive=True, group="nav")

    async def action_next(self) -> None:
        if self.pane is None or self.state.applying:
            return
        index = STEP_IDS.index(self.current)
        if index >= len(STEP_IDS) - 1:
            return
        reason = self.pane.blocked()
        if reason:
            self.notify(reason, severity="warning")
            return
        if not self.pane.leave():
            self.notify("Fix the marked answers first.", severity="error")
            return
        self.state.done_steps.add(self.current)
        self.state.problem_steps.discard(self.current)
        await self._show(STEP_IDS[index + 1])

    async def action_back(self) -> None:
        index = STEP_IDS.index(self.current)
        if index == 0 or self.state.applying:
            return
        if self.pane is not None and self.pane.fields():
            project = self.pane.validate()  # keep valid answers; invalid ones are dropped
            if project is not None:
                self.state.save_project(project)
        await self._show(STEP_IDS[index - 1])

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "next":
            event.stop()
            await self.action_next()
        elif event.button.id == "back":
            event.stop()
            await self.action_back()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if isinstance(event.option_list, StepList) and event.option.id:
            event.stop()
            self.goto(event.option.id)
