"""What ``mox port`` did to one file and what it left to the user, and how that reads.

Every entry carries the line it is about (in the source file; in a notebook, the cell and the
line inside it), because the user checks the port line by line. A change says old -> new and
why; a problem says what could not be done and what to do instead. Nothing is guessed: where
the meaning of a line is unclear (``/`` on counts), the line is reported, not rewritten.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Change:
    """One rewrite: ``old`` became ``new`` on ``line``, because ``why``."""

    line: int
    old: str
    new: str
    why: str
    cell: int | None = None


@dataclasses.dataclass
class Problem:
    """Something on ``line`` that ``mox port`` could not port: ``what``, and ``advice``."""

    line: int
    what: str
    advice: str
    cell: int | None = None


@dataclasses.dataclass
class FileReport:
    """The port of one file: ``src`` to ``dst``; ``error`` when it could not be ported at all,
    ``copied`` for a file copied as it is (not Python), ``skipped`` with the reason for one
    left out (a symbolic link)."""

    src: str
    dst: str | None
    changes: list[Change] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    error: str | None = None
    copied: bool = False
    skipped: str | None = None


class PortError(ValueError):
    """A file that cannot be ported (it does not parse even after the Python 2 fixes, or is not
    a notebook), named with the line (and notebook cell) where the trouble is."""

    def __init__(self, name: str, line: int | None, reason: str, cell: int | None = None):
        self.name, self.line, self.reason, self.cell = name, line, reason, cell
        where = f", cell {cell}" if cell else ""
        where += f", line {line}" if line else ""
        super().__init__(f"{name}{where}: {reason}")


def _where(entry: Change | Problem) -> str:
    return f"cell {entry.cell} line {entry.line}" if entry.cell else f"line {entry.line}"


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def format_file(report: FileReport) -> list[str]:
    """The lines of one file's section of the report."""
    target = f" -> {report.dst}" if report.dst else ""
    if report.skipped:
        return [f"{report.src}: skipped, {report.skipped}"]
    if report.error:
        return [f"{report.src}{target}: NOT PORTED: {report.error}"]
    if report.copied:
        return [f"{report.src}{target}: copied"]
    lines = [f"{report.src}{target}"]
    if report.changes:
        lines.append(f"  changed ({len(report.changes)}):")
        for change in sorted(report.changes, key=lambda c: (c.cell or 0, c.line)):
            lines.append(f"    {_where(change)}: {_short(change.old)} -> {_short(change.new)}")
            lines.append(f"        why: {change.why}")
    else:
        lines.append("  no changes")
    if report.problems:
        lines.append(f"  could not do ({len(report.problems)}):")
        for problem in sorted(report.problems, key=lambda p: (p.cell or 0, p.line)):
            lines.append(f"    {_where(problem)}: {problem.what}")
            lines.append(f"        instead: {problem.advice}")
    return lines


def format_report(reports: list[FileReport]) -> str:
    """The whole report: one section per file, then a summary line."""
    lines: list[str] = []
    for report in reports:
        if not report.copied:
            lines.extend(format_file(report))
    ported = [r for r in reports if not (r.copied or r.error or r.skipped)]
    copied = sum(r.copied for r in reports)
    failed = sum(bool(r.error) for r in reports)
    skipped = sum(bool(r.skipped) for r in reports)
    summary = (f"{len(ported)} file(s) ported, {sum(len(r.changes) for r in ported)} change(s), "
               f"{sum(len(r.problems) for r in ported)} thing(s) to do by hand")
    if copied:
        summary += f", {copied} other file(s) copied"
    if skipped:
        summary += f", {skipped} skipped"
    if failed:
        summary += f", {failed} NOT PORTED"
    lines.append(summary)
    return "\n".join(lines) + "\n"
