"""Labels files: ``labels.txt`` in either of the two layouts found in the field.

* indexed, ``index: name`` entries (MoXing writes ``0: daisy``, TF-Slim writes ``0:daisy``),
  one per line or several on one line as in MoXing's multi-label documentation
  (``0: bird 1: cat 2: dog``);
* plain, one name per line, the line number being the index.

Several entries on one line are told apart by their indices: a line ``i: ...`` is cut before
each `` i+1:`` (whitespace, the next index, a colon), then before `` i+2:``, and so on. A name
may therefore hold spaces, digits and colons (``0: route 66: west``) as long as it does not
contain the very next index followed by a colon.

A labels file decides which integer every sample is trained with, so anything ambiguous is an
error naming the file and the line: a mix of the two layouts, an index given twice, a gap in
the indices, a name given twice, an empty file. Guessing would mean silently wrong labels.
"""

from __future__ import annotations

import re

_INDEXED = re.compile(r"^(\d+)\s*:\s*(.*?)\s*$")


def parse_labels(text: str, source: str) -> list[str]:
    """The class names of a labels file's ``text``, index ``i`` at position ``i``.

    ``source`` (the file's path) names the file in errors.
    """
    numbered = [
        (number, line.strip())
        for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1)
        if line.strip()
    ]
    if not numbered:
        raise ValueError(f"labels file {source!r} is empty: it must list one class per line")
    matches = [(number, line, _INDEXED.match(line)) for number, line in numbered]
    indexed = [m for m in matches if m[2]]
    if indexed and len(indexed) != len(matches):
        plain_number, plain_line, _ = next(m for m in matches if not m[2])
        first_number, first_line, _ = indexed[0]
        raise ValueError(
            f"labels file {source!r} mixes two layouts: line {first_number} {first_line!r} is "
            f"'index: name' but line {plain_number} {plain_line!r} is not; write every line as "
            f"'index: name' or every line as a bare class name"
        )
    if not indexed:
        names = [line for _, line in numbered]
        _check_unique_names(names, [number for number, _ in numbered], source)
        return names
    by_index: dict[int, tuple[int, str]] = {}
    entries = [(number, index, name) for number, _, match in indexed
               for index, name in _line_entries(int(match.group(1)), match.group(2))]
    for number, index, name in entries:
        if not name:
            raise ValueError(f"labels file {source!r}, line {number}: index {index} has no name")
        if index in by_index:
            raise ValueError(
                f"labels file {source!r} gives label index {index} twice "
                f"(lines {by_index[index][0]} and {number})"
            )
        by_index[index] = (number, name)
    missing = sorted(set(range(len(by_index))) - set(by_index))
    if missing:
        extra = sorted(index for index in by_index if index >= len(by_index))
        raise ValueError(
            f"labels file {source!r} must number its {len(by_index)} classes 0 to "
            f"{len(by_index) - 1}; missing: {', '.join(map(str, missing))}"
            + (f"; beyond the range: {', '.join(map(str, extra))}" if extra else "")
        )
    names = [by_index[index][1] for index in range(len(by_index))]
    _check_unique_names(names, [by_index[index][0] for index in range(len(by_index))], source)
    return names


def _line_entries(index: int, rest: str) -> list[tuple[int, str]]:
    """``(index, name)`` of each entry on a line ``index: rest`` (``0: bird 1: cat`` has two)."""
    entries = []
    while True:
        following = re.search(rf"\s+{index + 1}\s*:", rest)
        if following is None:
            break
        entries.append((index, rest[:following.start()].strip()))  # "" is reported as nameless
        index, rest = index + 1, rest[following.end():]
    entries.append((index, rest.strip()))
    return entries


def _check_unique_names(names: list[str], line_numbers: list[int], source: str) -> None:
    seen: dict[str, int] = {}
    for name, number in zip(names, line_numbers):
        if name in seen:
            raise ValueError(
                f"labels file {source!r} names class {name!r} twice (lines {seen[name]} and "
                f"{number})"
            )
        seen[name] = number


def format_labels(names: list[str]) -> str:
    """The indexed layout TF-Slim's converters write (``0:daisy``), one line per class."""
    return "".join(f"{index}:{name}\n" for index, name in enumerate(names))
