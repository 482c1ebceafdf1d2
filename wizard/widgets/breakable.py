"""Text that wraps at spaces and breaks a token too long for its line only at a natural boundary.

Rich (and Textual) fold a word wider than the line at the last column that fits, so a path, URI,
ARN, instance id list or command is cut mid-word (`…-us-eas` / `t-1/releases/…`). `Breakable`
wraps like ordinary text, and a token wider than the line is broken only after `/`, `-`, `,`,
`:`, `=`, `&`, `?`, `;`, `_`, `|` or `@` (runs such as `://` or `--` stay whole), so
what is read on two lines is the same characters, in the same order, with nothing missing.
Only a run with no boundary at all wider than the line is cut at the line's end, the last resort.

`max_lines` keeps the first lines and ends the last at a boundary with `…` (the whole text is shown
elsewhere, e.g. a detail pane).
"""

from __future__ import annotations

import re
from typing import Any

from rich.cells import cell_len
from rich.measure import Measurement
from rich.text import Text

_AFTER = "/-,:=&?;_|@"  # a line may end after one of these (a run of them stays together)
_WORD = re.compile(r"\S+")


def break_points(word: str) -> list[int]:
    """Offsets inside `word` (0 < i < len) where a line may break: after a boundary character
    (not inside a run of them nor after a leading one, so `s3://` and `--flag` stay whole)."""
    points = []
    for i in range(1, len(word)):
        prev, cur = word[i - 1], word[i]
        if prev in _AFTER and cur not in _AFTER and word[:i].strip(_AFTER):
            points.append(i)
    return points


def wrap_spans(plain: str, width: int) -> list[tuple[int, int]]:
    """(start, end) offsets into `plain` of each line of at most `width` cells.

    Lines break at spaces (the spaces at a break are dropped) and at newlines; a word wider
    than the room left is broken at `break_points`, filling the line it starts on.
    """
    width = max(1, width)
    lines: list[tuple[int, int]] = []
    pos = 0
    for paragraph in plain.split("\n"):
        start = end = None  # the current line's span in `plain`
        used = 0
        indent = len(paragraph) - len(paragraph.lstrip(" "))
        if 0 < indent < width // 2:  # a paragraph's own indentation is kept (JSON, lists)
            start, end, used = pos, pos + indent, indent
        for m in _WORD.finditer(paragraph):
            w_start, w_end = pos + m.start(), pos + m.end()
            word = m.group()
            # the spaces kept between two words on one line: as many as the text has
            gap = w_start - end if start is not None and end is not None else 0
            if start is not None and used + gap + cell_len(word) <= width:
                end, used = w_end, used + gap + cell_len(word)
                continue
            if cell_len(word) <= width:  # a new line holds it whole
                if start is not None:
                    lines.append((start, end))  # type: ignore[arg-type]
                start, end, used = w_start, w_end, cell_len(word)
                continue
            # too wide for any line: break it at its boundaries, filling the current line
            cuts = [*break_points(word), len(word)]
            piece_start = 0
            room = width - used - gap if start is not None else width
            while piece_start < len(word):
                fits = [
                    c for c in cuts if c > piece_start and cell_len(word[piece_start:c]) <= room
                ]
                if not fits and room == width:  # no boundary within a whole line: cut it there
                    cut = piece_start
                    while cut < len(word) and cell_len(word[piece_start : cut + 1]) <= width:
                        cut += 1
                    fits = [max(cut, piece_start + 1)]
                if not fits:  # the next piece goes on a new line
                    if start is not None:
                        lines.append((start, end))  # type: ignore[arg-type]
                    start = end = None
                    used, room = 0, width
                    continue
                cut = fits[-1]
                seg_start, seg_end = w_start + piece_start, w_start + cut
                if start is None:
                    start, used = seg_start, 0
                    gap = 0
                end = seg_end
                used += gap + cell_len(word[piece_start:cut])
                gap = 0
                piece_start = cut
                if piece_start < len(word):  # the rest of the word starts a new line
                    lines.append((start, end))
                    start = end = None
                    used, room = 0, width
        if start is not None:
            lines.append((start, end))  # type: ignore[arg-type]
        elif not lines or paragraph == "":
            lines.append((pos, pos))
        pos += len(paragraph) + 1
    return lines


class Breakable:
    """A Rich renderable: `text` (str or styled Text) wrapped at the width it is given.

    `str()` gives the plain text (what a table cell holds for tests and copying).
    """

    def __init__(self, text: str | Text, style: str = "", *, max_lines: int | None = None):
        self.text = text if isinstance(text, Text) else Text(text, style=style)
        self.max_lines = max_lines

    def __str__(self) -> str:
        return self.text.plain

    def __repr__(self) -> str:
        return f"Breakable({self.text.plain!r})"

    def lines(self, width: int) -> list[Text]:
        """The styled lines at `width` cells."""
        spans = wrap_spans(self.text.plain, width)
        out = [self.text[a:b] for a, b in spans]
        limit = self.max_lines
        if limit is not None and len(out) > limit:
            out = out[:limit]
            last = out[-1]
            plain = last.plain
            keep = len(plain)
            while keep and cell_len(plain[:keep]) > width - 1:
                keep -= 1
            if keep < len(plain):  # back to a space or a boundary, never mid-word
                bounds = [i for i in break_points(plain[:keep]) if i <= keep]
                space = plain.rfind(" ", 0, keep)
                best = max([*bounds, space + 1 if space >= 0 else 0])
                keep = best or keep
            cut = last[:keep]
            cut.rstrip()
            cut.append("…", style=self.text.style or None)
            out[-1] = cut
        return out

    def __rich_console__(self, console: Any, options: Any) -> Any:
        lines = self.lines(options.max_width)
        joined = Text("\n").join(lines)
        joined.no_wrap = True
        joined.overflow = "ignore"
        joined.end = "\n"  # Textual counts a visual's lines by their newlines
        yield joined

    def __rich_measure__(self, console: Any, options: Any) -> Measurement:
        plain = self.text.plain
        widest = max((cell_len(line) for line in plain.split("\n")), default=0)
        return Measurement(min(widest, 8), widest).clamp(max_width=options.max_width)
