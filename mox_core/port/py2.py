"""Python 2 leftovers in MoXing scripts, fixed on tokens before anything parses the file.

TensorFlow's upgrader parses with Python 3's ``ast``, so a single ``print "done"`` stops it;
``lib2to3`` is gone from Python 3.13. The fixes here work on ``tokenize``'s tokens, which do not
care about grammar, and rewrite only the tokens concerned:

* ``print x, y`` / ``print >>f, x`` / ``print x,`` -> ``print(x, y)`` / ``print(x, file=f)`` /
  ``print(x, end=" ")`` -- only in a file that does not parse as Python 3 and has no
  ``from __future__ import print_function`` (in any other file ``print`` is already a call);
* ``except E, e:`` -> ``except E as e:``; ``a <> b`` -> ``a != b``; ``0777`` -> ``0o777``;
  ``10L`` -> ``10``;
* ``sys.maxint`` -> ``sys.maxsize``, ``xrange`` -> ``range``, ``unicode``/``basestring`` ->
  ``str``, ``unichr`` -> ``chr``, ``raw_input`` -> ``input``, ``d.iteritems()`` /
  ``itervalues()`` / ``iterkeys()`` -> ``d.items()`` / ``values()`` / ``keys()``.

``d.has_key(k)`` is reported (``k in d``), not rewritten: the receiver is an expression.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from mox_core.port.edits import Edit, Source
from mox_core.port.report import Change, Problem

_RENAMED_NAMES = {
    "xrange": ("range", "Python 3's range is lazy like xrange"),
    "unicode": ("str", "Python 3's str is unicode"),
    "basestring": ("str", "Python 3 has one string type"),
    "unichr": ("chr", "Python 3's chr covers unicode"),
    "raw_input": ("input", "Python 3's input is raw_input"),
}
_RENAMED_METHODS = {
    "iteritems": "items",
    "itervalues": "values",
    "iterkeys": "keys",
}
_NOT_A_USE = {"def", "class", "import", "as", "from", "global", "nonlocal"}
_STATEMENT_END = {"NEWLINE", "ENDMARKER"}


def future_imports(text: str) -> set[str]:
    """Names imported from ``__future__`` (read with a pattern: the file may not parse)."""
    names: set[str] = set()
    pattern = r"^[ \t]*from\s+__future__\s+import\s+(\([^)]*\)|[^\n#;]+)"
    for match in re.finditer(pattern, text, re.M):
        names.update(name.split()[0] for name in match.group(1).strip("()").split(",")
                     if name.strip())
    return names


def parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


class _Fixer:
    def __init__(self, text: str) -> None:
        self.source = Source(text)
        self.tokens = []
        try:
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT,
                                    tokenize.DEDENT):
                    self.tokens.append(tok)
        except tokenize.TokenError:
            pass  # an unclosed bracket at the end: fix what comes before, parsing names it
        self.edits: list[Edit] = []
        self.changes: list[Change] = []
        self.problems: list[Problem] = []

    def _name(self, index: int) -> str:
        return tokenize.tok_name[self.tokens[index].type] if 0 <= index < len(self.tokens) else ""

    def _string(self, index: int) -> str:
        return self.tokens[index].string if 0 <= index < len(self.tokens) else ""

    def _replace(self, first: int, last: int, text: str, why: str) -> None:
        start, end = self.tokens[first].start, self.tokens[last].end
        old = self.source.segment(start, end)
        self.edits.append(Edit(start, end, text))
        self.changes.append(Change(start[0], old, text, why))

    def _statement_starts(self, index: int) -> bool:
        """Whether token ``index`` begins a statement: after a NEWLINE, a ``;`` or the ``:`` of
        a one-line compound statement (``if x: print y``)."""
        if index == 0:
            return True
        before = self.tokens[index - 1]
        return before.type == tokenize.NEWLINE or before.string in (";", ":") and (
            self._depth_before(index) == 0)

    def _depth_before(self, index: int) -> int:
        depth = 0
        for tok in reversed(self.tokens[:index]):
            if tok.type == tokenize.NEWLINE:
                break
            if tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
            elif tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
        return max(depth, 0)

    def _statement_end(self, index: int) -> int:
        """The index of the last token of the statement that starts at ``index``."""
        depth = 0
        last = index
        for position in range(index, len(self.tokens)):
            tok = self.tokens[position]
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
            elif depth <= 0 and (tokenize.tok_name[tok.type] in _STATEMENT_END or tok.string == ";"):
                return last
            last = position
        return last

    def _top_level_commas(self, first: int, last: int) -> list[int]:
        depth, commas = 0, []
        for position in range(first, last + 1):
            tok = self.tokens[position]
            if tok.string in ("(", "[", "{"):
                depth += 1
            elif tok.string in (")", "]", "}"):
                depth -= 1
            elif tok.string == "," and depth == 0:
                commas.append(position)
        return commas

    # -- the fixes --------------------------------------------------------------------------
    def fix_print(self, index: int) -> None:
        last = self._statement_end(index)
        following = self._string(index + 1)
        if last == index:
            self._replace(index, index, "print()", "Python 2 print statement")
            return
        if following in ("=", ".", ")", "]", "}", ",", ":") or following.endswith("=") and (
                following not in ("==", "<=", ">=", "!=")):
            return  # print used as a name
        if following == "(" and self._matching(index + 1) == last:
            return  # already a call (print (x) means the same in both languages)
        first = index + 1
        extras = []
        if following == ">>":
            commas = self._top_level_commas(index + 2, last)
            file_end = commas[0] - 1 if commas else last
            target = self.source.segment(self.tokens[index + 2].start, self.tokens[file_end].end)
            extras.append(f"file={target}")
            first = commas[0] + 1 if commas else last + 1
        trailing_comma = self._string(last) == "," and first <= last
        arg_last = last - 1 if trailing_comma else last
        if trailing_comma:
            extras.insert(0, 'end=" "')
        args = (self.source.segment(self.tokens[first].start, self.tokens[arg_last].end)
                if first <= arg_last else "")
        text = "print(" + ", ".join(part for part in [args, *extras] if part) + ")"
        self._replace(index, last, text, "Python 2 print statement; Python 3's print is a function")

    def _matching(self, index: int) -> int:
        depth = 0
        for position in range(index, len(self.tokens)):
            string = self.tokens[position].string
            if string in ("(", "[", "{"):
                depth += 1
            elif string in (")", "]", "}"):
                depth -= 1
                if depth == 0:
                    return position
        return len(self.tokens)

    def fix_except(self, index: int) -> None:
        colon = index
        while colon < len(self.tokens) and not (
                self._string(colon) == ":" and self._depth_before(colon) == 0):
            colon += 1
        commas = self._top_level_commas(index + 1, colon - 1)
        if len(commas) == 1 and self._name(commas[0] + 1) == "NAME" and commas[0] + 2 == colon:
            caught = self.source.segment(self.tokens[index + 1].start,
                                         self.tokens[commas[0] - 1].end)
            self._replace(index, commas[0] + 1,
                          f"except {caught} as {self.tokens[commas[0] + 1].string}",
                          "Python 2 'except E, e' syntax")

    def run_statements(self, print_statements: bool) -> None:
        """Statement-wide fixes (their edits span tokens that the token fixes may rewrite)."""
        for index, tok in enumerate(self.tokens):
            if tok.type != tokenize.NAME or not self._statement_starts(index):
                continue
            if tok.string == "print" and print_statements:
                self.fix_print(index)
            elif tok.string == "except":
                self.fix_except(index)

    def run_tokens(self) -> None:
        """Fixes of single tokens (or two adjacent ones)."""
        tokens = self.tokens
        for index, tok in enumerate(tokens):
            before = self._string(index - 1)
            if tok.type == tokenize.NAME:
                if tok.string in _RENAMED_NAMES and before != "." and (
                        before not in _NOT_A_USE) and self._string(index + 1) != "=":
                    new, why = _RENAMED_NAMES[tok.string]
                    self._replace(index, index, new, why)
                elif tok.string == "maxint" and before == "." and self._string(index - 2) == "sys":
                    self._replace(index - 2, index, "sys.maxsize",
                                  "sys.maxint is gone in Python 3; sys.maxsize is the same "
                                  "'very large integer'")
                elif tok.string in _RENAMED_METHODS and before == "." and (
                        self._string(index + 1) == "(" and self._string(index - 2) != "six"):
                    self._replace(index - 1, index, "." + _RENAMED_METHODS[tok.string],
                                  f"dict.{tok.string}() is gone in Python 3")
                elif tok.string == "has_key" and before == "." and self._string(index + 1) == "(":
                    self.problems.append(Problem(
                        tok.start[0], "dict.has_key(k) is gone in Python 3",
                        "write `k in d` for `d.has_key(k)`"))
                elif tok.string in ("L", "l") and self._name(index - 1) == "NUMBER" and (
                        tokens[index - 1].end == tok.start):
                    self._replace(index - 1, index, tokens[index - 1].string,
                                  "Python 3 has no long literals")
            elif tok.type == tokenize.NUMBER and tok.string != "0" and before == "0" and (
                    tokens[index - 1].end == tok.start and tok.string.isdigit()):
                self._replace(index - 1, index, "0o" + tok.string,
                              "Python 2 octal literal; Python 3 writes 0o")
            elif tok.string == ">" and before == "<" and tokens[index - 1].end == tok.start:
                self._replace(index - 1, index, "!=", "Python 2's <> operator is !=")


def fix_python2(text: str) -> tuple[str, list[Change], list[Problem]]:
    """``text`` with the Python 2 leftovers fixed, the changes made and the things reported.

    Two passes: whole statements (``print``, ``except``) first, then single tokens on the
    result, so that ``print xrange(3)`` gets both fixes without overlapping edits. A text the
    tokenizer cannot read comes back unchanged: parsing it then reports the line."""
    changes: list[Change] = []
    problems: list[Problem] = []
    print_statements = "print_function" not in future_imports(text) and not parses(text)
    for statements in (True, False):
        try:
            fixer = _Fixer(text)
        except (tokenize.TokenError, SyntaxError):
            return text, changes, problems
        if statements:
            fixer.run_statements(print_statements)
        else:
            fixer.run_tokens()
        if fixer.edits:
            text = fixer.source.apply(fixer.edits)
        changes.extend(fixer.changes)
        problems.extend(fixer.problems)
    return text, changes, problems
