"""A labelled form field with help text and an inline validation message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Static


class Field(Vertical):
    """Wraps one control; `key` is its dotted project-file key (e.g. `roles.instance_role`).

    `value` converts the control's state to what the project file holds; `empty` is what an
    empty text box means (None for optional values, "" for names derived from the application).
    """

    def __init__(
        self,
        label: str,
        key: str,
        control: Widget,
        *,
        help: str = "",
        convert: Callable[[Any], Any] | None = None,
        empty: Any = "",
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.label = label
        self.key = key
        self.control = control
        self.help = help
        self.convert = convert
        self.empty = empty
        self.add_class("field")
        if hasattr(control, "compact"):
            control.compact = True  # one line per control: readable at 80x24

    def compose(self) -> ComposeResult:
        yield Static(self.label, classes="field-label")
        yield self.control
        if self.help:
            yield Static(self.help, classes="field-help")
        yield Static("", classes="field-error")

    @property
    def value(self) -> Any:
        from textual.widgets import Select, SelectionList, Switch

        c = self.control
        if isinstance(c, Input):
            raw: Any = c.value.strip()
            if raw == "":
                return self.empty
        elif isinstance(c, Switch):
            raw = c.value
        elif isinstance(c, Select):
            raw = None if c.value is Select.NULL else c.value
        elif isinstance(c, SelectionList):
            raw = list(c.selected)
        else:
            raw = getattr(c, "value", None)
        if self.convert is not None:
            try:
                return self.convert(raw)
            except (TypeError, ValueError):
                return raw
        return raw

    def set_error(self, message: str | None) -> None:
        err = self.query_one(".field-error", Static)
        err.update(f"✗ {message}" if message else "")
        err.display = bool(message)
        self.set_class(bool(message), "-invalid")
