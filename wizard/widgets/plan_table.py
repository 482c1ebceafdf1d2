"""The plan on screen: a list for Review and Apply (with progress marks), sentences for a step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import Static
from textual.widgets.option_list import Option

from wizard.widgets.lists import SafeOptionList

ACTION_STYLE = {
    "create": "green",
    "update": "yellow",
    "adopt": "cyan",
    "noop": "dim",
    "conflict": "bold red",
}
# Rich colour names → the theme's text colours (DataTable cells are Rich text, which cannot use
# theme variables; bright yellow or green is unreadable on the light theme)
THEME_COLOURS = {
    "green": "text-success",
    "yellow": "text-warning",
    "red": "text-error",
    "cyan": "text-accent",
    "blue": "text-primary",
    "magenta": "text-secondary",
}


def themed(widget: Any, style: str) -> str:
    """`style` with its colour names replaced by the current theme's readable text colours."""
    try:
        variables = widget.app.get_css_variables()
    except Exception:  # not mounted yet: keep the plain colours
        return style
    return " ".join(
        variables.get(THEME_COLOURS.get(word, ""), word) if word in THEME_COLOURS else word
        for word in style.split()
    )


STATE_MARK = {
    "pending": ("·", "dim"),
    "start": ("…", "yellow"),
    "done": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "skipped": ("–", "dim"),
}


def described(change: Any) -> str:
    """A change's description in the TUI's words (a button where the CLI has a flag)."""
    from wizard.steps.ci import in_tui_words

    return in_tui_words(str(change.description))


def hyphen_lines(word: str, width: int) -> list[str]:
    """`word` in pieces of at most `width` cells, broken only after its hyphens (AWS names are
    hyphenated words: `demo-codedeploy-ec2`); folded mid-word only where one hyphen-free piece
    is itself wider than `width`."""
    import re

    lines: list[str] = []
    line = ""
    for piece in re.findall(r"[^-]*-+|[^-]+$", word) or [word]:
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
        while len(line) > width:
            lines.append(line[:width])
            line = line[width:]
    return [*lines, line] if line or not lines else lines


class HyphenWrap:
    """Text for a narrow column that wraps at spaces, and breaks a word longer than the column
    (a resource name) only after its hyphens, never mid-word as Rich's fold or "…" would.

    A Rich renderable: the column's width is known only when the table is laid out.
    """

    def __init__(self, text: Text | str, style: str = "") -> None:
        self.text = text if isinstance(text, Text) else Text(text, style=style)

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        import re

        from rich.measure import Measurement

        pieces = re.findall(r"[^-\s]*-+|[^-\s]+", self.text.plain) or [""]
        return Measurement(max(len(p) for p in pieces), len(self.text.plain))

    def broken(self, width: int) -> Text:
        """The text with a newline after each piece of a word longer than `width`."""
        import re

        cuts: list[int] = []
        for match in re.finditer(r"\S+", self.text.plain):
            if match.end() - match.start() > width:
                at = match.start()
                for line in hyphen_lines(match.group(), width)[:-1]:
                    at += len(line)
                    cuts.append(at)
        if not cuts:
            return self.text
        return Text("\n").join(self.text.divide(cuts))

    def __rich_console__(self, console: Any, options: Any) -> Any:
        yield self.broken(max(1, options.max_width))


class PlanList(SafeOptionList):
    """The plan, one entry per change: the action and the whole name on the first line, the
    resource type and the description wrapped beneath, then any fix or problem.

    A table cut either the names or the descriptions at 80 columns (the bucket name alone is 42
    characters); here the name gets the whole line after the action and the description wraps to
    whatever width there is, re-wrapped on resize. With `progress`, a mark before each entry shows
    apply's progress (· pending, … running, ✓ done, ✗ failed, – skipped).
    """

    ACTION_WIDTH = 9  # "conflict" and a space

    def __init__(self, *, progress: bool = False, **kw: Any) -> None:
        super().__init__(**kw)
        self.progress = progress
        self.changes: list[Any] = []
        self.states: dict[int, str] = {}

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._retheme)

    def set_changes(self, changes: Sequence[Any]) -> None:
        """Fill from Change objects (action, resource, name, description; fix, warning)."""
        self.changes = list(changes)
        self.states = {}
        self.clear_options()
        self.add_options([Option(self._prompt(i), id=str(i)) for i in range(len(self.changes))])
        if self.changes:
            self.highlighted = 0

    def set_state(self, index: int, state: str) -> None:
        """Update one entry's progress mark ("start", "done", "failed", "skipped")."""
        if not 0 <= index < len(self.changes):
            return
        self.states[index] = state
        self.replace_option_prompt_at_index(index, self._prompt(index))
        if state == "start":
            self.highlighted = index

    def _retheme(self, _theme: Any = None) -> None:
        """Recolour the entries for the new theme (Rich text holds fixed colours)."""
        for i in range(len(self.changes)):
            self.replace_option_prompt_at_index(i, self._prompt(i))

    def _prompt(self, index: int) -> Any:
        from rich.table import Table

        c = self.changes[index]
        grid = Table.grid(padding=(0, 1, 0, 0))
        if self.progress:
            grid.add_column(width=1, no_wrap=True)
        grid.add_column(width=self.ACTION_WIDTH - 1, no_wrap=True)
        grid.add_column(ratio=1)  # names whole, broken at hyphens at most (HyphenWrap)

        def row(left: Any, right: Any) -> None:
            lead = [self._mark(index) if left else ""] if self.progress else []
            grid.add_row(*lead, left, right)

        row(
            Text(c.action, style=themed(self, ACTION_STYLE.get(c.action, ""))),
            HyphenWrap(str(c.name), style="bold"),
        )
        row("", HyphenWrap(Text.assemble((f"{c.resource} ", themed(self, "dim")), described(c))))
        if getattr(c, "warning", None):
            if getattr(c, "blocks_deploy", False):
                row("", HyphenWrap(f"✗ problem: {c.warning}", style=themed(self, "red")))
            else:
                row("", HyphenWrap(f"! {c.warning}", style=themed(self, "yellow")))
        if c.action == "conflict" and getattr(c, "fix", None):
            row("", HyphenWrap(f"fix: {c.fix}", style=themed(self, "red")))
        return grid

    def _mark(self, index: int) -> Text:
        text, style = STATE_MARK.get(self.states.get(index, "pending"), ("·", "dim"))
        return Text(text, style=themed(self, style))


ACTION_VARIABLE = {
    "create": "$text-success",
    "update": "$text-warning",
    "adopt": "$text-accent",
    "noop": "dim",
    "conflict": "bold $text-error",
}


class PlanSummary(Static):
    """One step's share of the plan as wrapped lines, each the action and its whole sentence.

    The steps' panes are narrow at 80 columns: in a table the description (the part a first-timer
    needs) was cut off after a few characters. The Review step keeps the full table.
    """

    DEFAULT_CSS = "PlanSummary { height: auto; }"

    def __init__(self, **kw: Any) -> None:
        super().__init__("", **kw)
        self.changes: list[Any] = []

    def set_changes(self, changes: Sequence[Any]) -> None:
        """Show Change objects (anything with action and description)."""
        from textual.content import Content

        self.changes = list(changes)
        lines = []
        for c in self.changes:
            style = ACTION_VARIABLE.get(c.action, "")
            text = described(c)
            n = len(c.action)
            if text.lower().startswith(c.action + " "):  # "create the bucket …": colour the verb
                lines.append(Content.assemble((text[:n], style), text[n:]))
            else:
                lines.append(Content.assemble((c.action, style), ": ", text))
        self.update(Content("\n").join(lines))
