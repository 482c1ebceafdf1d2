"""The main screen: context bar, the step list beside the current step, Back / Next, footer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, OptionList, Static

from wizard.screens.steps import STEP_IDS, STEPS, TITLES, pane_class
from wizard.tui_support import WizardState, is_live, state_of
from wizard.widgets.context_bar import ContextBar
from wizard.widgets.step_list import StepList

if TYPE_CHECKING:
    from wizard.screens.steps.base import StepPane


class WizardScreen(Screen):
    """Shows one step pane at a time; panes are mounted on demand and read the app's state.

    Switching steps is serialised (one at a time, whatever the keys or clicks), and `self.pane` is
    only ever a live pane: it is cleared before the old pane is removed and set once the new one
    is mounted, so no hook (context change, a late worker result, the after-refresh `shown`)
    reaches a pane that has not composed its widgets or is being taken apart. Next on a step that
    is still loading (credentials being checked, the plan being worked out, apply running) is
    queued once and carried out when the step is ready, unless it then has a problem to show.
    """

    BINDINGS = [
        Binding("ctrl+n", "next", "Next", priority=True),
        Binding("ctrl+b", "back", "Back", priority=True),
    ]

    def __init__(self, start: str = "credentials") -> None:
        super().__init__()
        self.current = start if start in STEP_IDS else "credentials"
        self.pane: StepPane | None = None  # the live pane; None while switching
        self.next_queued = False
        self._first: StepPane | None = None
        self.nav_lock = asyncio.Lock()

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
                self._first = pane_class(self.current)()
                yield Container(self._first, id="pane-host")
                with Horizontal(id="nav"):
                    yield Button("◀ Back", id="back", compact=True)
                    yield Static("", id="nav-hint")
                    yield Button("Next ▶", id="next", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._show_context()
        self.pane, self._first = self._first, None
        self._refresh_nav()
        self.call_after_refresh(self.state.remember_step, self.current)
        # AWS work starts once the first frame is on screen (its threads compete for the GIL)
        self.call_after_refresh(self._pane_shown, self.pane)

    def on_screen_resume(self) -> None:
        """Back from another screen (a deployment, a diagnosis): the pane may look again."""
        pane = self.pane
        if pane is not None and is_live(pane):
            pane.resumed()

    # ------------------------------------------------------------------ navigation
    async def _switch(self, step: str) -> None:
        """Replace the pane (call with the navigation lock held)."""
        old, self.pane = self.pane, None
        self.next_queued = False
        if old is not None:
            old.leaving = True  # late callbacks (workers, after-refresh) now skip it
        host = self.query_one("#pane-host", Container)
        self.current = step
        # the new pane is built and mounted above the old one, which goes only then: the body
        # was blank for as long as the new pane took to import and compose (0.1-0.3 s)
        pane = pane_class(step)()
        await host.mount(pane, before=0)
        await host.remove_children([c for c in host.children if c is not pane])
        self.pane = pane
        self._refresh_nav()
        self.state.remember_step(step)
        self.call_after_refresh(self._pane_shown, pane)

    def _pane_shown(self, pane: StepPane | None) -> None:
        if pane is not None and pane is self.pane and is_live(pane):
            pane.shown()
            pane.mark_clean()
            self._focus_pane()
            self._refresh_nav()
            self._import_next_step()

    def _import_next_step(self) -> None:
        """Import the next step's module while the user reads this one (a thread: the
        first import of a pane was most of the wait after Next)."""
        index = STEP_IDS.index(self.current)
        if index + 1 < len(STEP_IDS):
            self.run_worker(
                lambda: pane_class(STEP_IDS[index + 1]),
                thread=True,
                group="import-next",
                exit_on_error=False,
            )

    def _focus_pane(self) -> None:
        if self.pane is None or not is_live(self.pane):
            return
        for widget in self.pane.query("*"):
            if widget.focusable:
                widget.focus(scroll_visible=False)
                return
        self.query_one("#next", Button).focus()

    def _refresh_nav(self) -> None:
        index = STEP_IDS.index(self.current)
        pane = self.pane
        back = self.query_one("#back", Button)
        nxt = self.query_one("#next", Button)
        back.disabled = index == 0 or self.state.applying or pane is None
        label = pane.NEXT_LABEL if pane else "Next ▶"
        if str(nxt.label) != label:
            nxt.label = label
            nxt.refresh(layout=True)  # the label is not a layout reactive: resize the button
        nxt.display = index < len(STEP_IDS) - 1
        loading = pane.waiting_for() if pane else "…"
        reason = loading or (pane.blocked() if pane else None)
        # a loading step still takes Next (it is queued), a blocked one does not
        nxt.disabled = bool(reason) and not loading
        notice = pane.notice() if pane and not reason else None
        hint = reason or (f"[$text-error]✗ {notice}[/]" if notice else None)
        hint = hint or f"step {index + 1} of {len(STEPS)}"
        if loading and self.next_queued:
            hint = f"{loading} then Next"
        nav_hint = self.query_one("#nav-hint", Static)
        nav_hint.update(hint)
        # one row, cut with … when the terminal is narrower than the hint: the whole text is
        # its tooltip (and a step's own status says the rest)
        nav_hint.tooltip = hint
        self.query_one(StepList).set_marks(
            self.current, self.state.done_steps, self.state.problem_steps
        )

    def refresh_nav(self) -> None:
        """Panes call this when what blocks Next changes (a worker finished, …); a queued Next
        goes ahead once the step is no longer loading."""
        if not is_live(self):
            return
        self._refresh_nav()
        pane = self.pane
        if self.next_queued and pane is not None and not pane.waiting_for():
            self.next_queued = False
            if self.current in self.state.problem_steps:  # let the user read it first
                self.notify("Not moving on: this step has a problem to look at.", timeout=5)
                return
            self.call_later(self.action_next)

    def _show_context(self) -> None:
        state = self.state
        ident = state.identity
        self.query_one(ContextBar).update_context(
            account=ident["account"] if ident else None,
            region=state.ctx.region,
            profile=state.ctx.profile,
            sandbox=bool(state.ctx.sandbox),
        )

    def context_changed(self) -> None:
        """The app's AWS context or identity changed: the bar, the pane and Next follow."""
        if not self.is_mounted:
            return  # on_mount shows the context as it is then
        self._show_context()
        if self.pane is not None and is_live(self.pane):
            self.pane.context_changed()
        self.refresh_nav()

    def has_unsaved_answers(self) -> bool:
        """Has the user changed answers on this step that are not in the project file yet?"""
        pane = self.pane
        return pane is not None and is_live(pane) and pane.edited()

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
        self.run_worker(self._goto(step), group="nav")

    async def _goto(self, step: str) -> None:
        async with self.nav_lock:
            if step != self.current and not self.state.applying:
                await self._switch(step)

    async def action_next(self) -> None:
        async with self.nav_lock:
            pane = self.pane
            if pane is None or not is_live(pane):
                return
            index = STEP_IDS.index(self.current)
            if index >= len(STEP_IDS) - 1:
                return
            loading = pane.waiting_for()
            if loading:
                self.next_queued = True
                self._refresh_nav()
                return
            reason = pane.blocked()
            if reason:
                self.notify(reason, severity="warning")
                return
            if not pane.leave():
                self.notify("Fix the marked answers first.", severity="error")
                return
            self.state.done_steps.add(self.current)
            self.state.problem_steps.discard(self.current)
            await self._switch(STEP_IDS[index + 1])

    async def action_back(self) -> None:
        async with self.nav_lock:
            self.next_queued = False
            index = STEP_IDS.index(self.current)
            pane = self.pane
            if index == 0 or self.state.applying or pane is None or not is_live(pane):
                return
            if pane.fields():
                project = pane.validate()  # keep valid answers; invalid ones are dropped
                if project is not None:
                    self.state.save_project(project)
            await self._switch(STEP_IDS[index - 1])

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
