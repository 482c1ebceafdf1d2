"""A DataTable that gives its names the room they need and wraps one column (the prose).

Textual's DataTable sizes every column to its widest cell or cuts it at a fixed width; on an
80-column terminal either the names or the results were cut (`repo-codedeploy-serv`, a Result
column seven characters wide). Here one column, the one holding sentences, takes whatever width
the others leave and wraps; rows grow to fit, and are measured again when the table is resized or
a cell of that column changes.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey


class WrapTable(DataTable):
    """`wrap`: the key of the column that takes the remaining width and wraps (min `min_wrap`).
    `caps`: other columns that may take at most this share of the width and wrap beyond it
    (titles that are sentences, not identifiers).

    `max_lines`: a wrapped row is at most this many lines high, its last line ending in "…"
    (the screen shows the whole text elsewhere, e.g. a detail pane): one long result must not
    push the selected row out of a short table.

    Add rows with `height=None` (auto height) for the wrapping to show.
    """

    def __init__(
        self,
        *,
        wrap: str,
        min_wrap: int = 20,
        caps: dict[str, float] | None = None,
        max_lines: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.max_lines = max_lines
        self._capped: set[tuple[Any, int]] = set()  # cells cut at max_lines when measured
        self.wrap_key = ColumnKey(wrap)
        self.min_wrap = min_wrap
        self.caps = {ColumnKey(k): v for k, v in (caps or {}).items()}
        self._fitted: tuple[int, ...] = ()

    def on_resize(self, _event: events.Resize) -> None:
        self.fit()

    async def _on_idle(self, event: events.Idle) -> None:
        await super()._on_idle(event)
        self.fit()  # the other columns may have grown with new content

    def fit(self, *, force: bool = False) -> None:
        """Give the wrap column the width the others leave, and measure every row again."""
        column = self.columns.get(self.wrap_key)
        width = self.scrollable_content_region.width
        if column is None or width <= 0:
            return
        for key, share in self.caps.items():
            capped = self.columns.get(key)
            if capped is not None:
                cap = max(8, int(width * share))
                capped.auto_width = capped.content_width <= cap
                capped.width = min(capped.content_width, cap)
        others = sum(
            c.get_render_width(self) for c in self.ordered_columns if c.key != self.wrap_key
        )
        wanted = max(self.min_wrap, width - others - 2 * self.cell_padding)
        fitted = (width, wanted, *(c.get_render_width(self) for c in self.ordered_columns))
        if not force and fitted == self._fitted:
            return
        self._fitted = fitted
        column.width = wanted
        column.auto_width = False
        self._measure_rows(list(self.rows))

    def _measure_rows(self, keys: list[RowKey]) -> None:
        # DataTable measures auto-height rows only when they are added, and caches rendered
        # cells without their width; these private fields are how it schedules a measure
        # (Textual 8, pinned in the test extra): render and measure them again
        self._update_count += 1
        self._clear_caches()
        for key in keys:
            row = self.rows.get(key)
            if row is not None and row.auto_height:
                row.height = 0  # a cell is wrapped only while its row is not one line high
        self._new_rows.update(keys)
        self._keep_cursor = True
        self._require_update_dimensions = True
        self.refresh()
        self.check_idle()

    _keep_cursor = False  # rows were measured again: the cursor row may have moved off screen

    def _update_dimensions(self, new_rows: Any) -> None:
        super()._update_dimensions(new_rows)
        if self._keep_cursor:
            # rows measured at another width change height; the highlighted row (a root cause
            # the screen scrolled to) must stay in view
            self._keep_cursor = False
            if self.row_count and self.show_cursor and self.cursor_type == "row":
                self.call_after_refresh(self._scroll_cursor_into_view)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Any,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        lines = super()._render_cell(
            row_index, column_index, base_style, width, cursor=cursor, hover=hover
        )
        limit = self.max_lines
        if limit is None or row_index < 0:
            return lines
        row_key = self._row_locations.get_key(row_index)
        row = self.rows.get(row_key) if row_key is not None else None
        cell = (row_key, column_index)
        if row is not None and row.auto_height and row.height == 0:  # being measured
            if len(lines) > limit:
                self._capped.add(cell)
            else:
                self._capped.discard(cell)
        if cell not in self._capped or len(lines) < limit:
            return lines
        # measured rows get `limit` lines; the last one says the text goes on
        from rich.cells import cell_len
        from rich.segment import Segment

        last = list(lines[limit - 1])
        pad = self.cell_padding
        used = cell_len("".join(seg.text for seg in last).rstrip())  # the words, not the padding
        keep = min(used, width - pad - 1)
        style = next((seg.style for seg in reversed(last) if seg.text.strip()), None)
        body = next(iter(Segment.divide(last, [keep])))
        filler = last[-1].style if last else None  # the cell's background for the rest
        line = [*body, Segment("…", style)]
        line = Segment.adjust_line_length(line, width, style=filler)
        return [*lines[: limit - 1], line]

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Any,
        *,
        update_width: bool = False,
    ) -> None:
        super().update_cell(row_key, column_key, value, update_width=update_width)
        column = column_key if isinstance(column_key, ColumnKey) else ColumnKey(column_key)
        if column == self.wrap_key:
            self._measure_rows([row_key if isinstance(row_key, RowKey) else RowKey(row_key)])
