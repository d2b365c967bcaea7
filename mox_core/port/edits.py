"""Text edits by position, so that a port touches only what it rewrites.

The port never re-prints a file from a syntax tree: comments, blank lines and formatting stay
as written, and every rewrite keeps the number of lines, so line numbers in the report (and in
a notebook, the mapping back to cells) stay true from the first step to the last.
"""

from __future__ import annotations

import dataclasses


def char_col(line: str, byte_col: int) -> int:
    """``ast`` gives columns in UTF-8 bytes, ``tokenize`` in characters: a character column
    of ``line`` (MoXing scripts often carry Chinese comments and strings)."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


@dataclasses.dataclass(frozen=True)
class Edit:
    """Replace the text from ``start`` to ``end`` (1-based line, character column)."""

    start: tuple[int, int]
    end: tuple[int, int]
    text: str


class Source:
    """A source text addressed by (line, character column)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self._starts = [0]
        for line in self.lines:
            self._starts.append(self._starts[-1] + len(line))

    def offset(self, position: tuple[int, int]) -> int:
        row, col = position
        return self._starts[row - 1] + col if row - 1 < len(self._starts) else len(self.text)

    def segment(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        return self.text[self.offset(start):self.offset(end)]

    def line(self, row: int) -> str:
        return self.lines[row - 1] if 0 < row <= len(self.lines) else ""

    def node_span(self, node) -> tuple[tuple[int, int], tuple[int, int]]:
        """The (start, end) character positions of an ``ast`` node."""
        return ((node.lineno, char_col(self.line(node.lineno), node.col_offset)),
                (node.end_lineno, char_col(self.line(node.end_lineno), node.end_col_offset)))

    def apply(self, edits: list[Edit]) -> str:
        """The text with ``edits`` applied; overlapping edits are an error of the caller."""
        text = self.text
        last = len(text) + 1
        for edit in sorted(edits, key=lambda e: self.offset(e.start), reverse=True):
            start, end = self.offset(edit.start), self.offset(edit.end)
            if end > last:
                raise AssertionError(f"overlapping edits at line {edit.start[0]}")
            text = text[:start] + edit.text + text[end:]
            last = start
        if text.count("\n") != self.text.count("\n"):
            raise AssertionError("a rewrite changed the number of lines")
        return text
