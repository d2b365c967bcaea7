"""Typed errors about the user's data, raised where the problem is found and worded by the caller.

A :class:`DataError` names the thing at fault (``path``: a file, a shard, a record) and what is
wrong with it (``reason``); ``skip_option`` is the parameter that would skip such data, if any.
The Python API raises it as is (its message spells the option ``skip_corrupt=True``); the
command line prints :meth:`DataError.describe` with its own spelling (``--skip-corrupt``).

It is a ``tf.errors.InvalidArgumentError`` (what TensorFlow raised before mox named the file, so
existing ``except`` clauses keep working) and a ``ValueError`` (what mox raises for bad input
found outside a session).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf


def python_spelling(option: str) -> str:
    """How the Python API spells a boolean option: ``skip_corrupt=True``."""
    return f"{option}=True"


def cli_spelling(option: str) -> str:
    """How the command line spells a boolean option: ``--skip-corrupt``."""
    return "--" + option.replace("_", "-")


class DataError(tf.errors.InvalidArgumentError, ValueError):
    """Bad input data: ``path`` (the file at fault), ``reason`` (what is wrong with it).

    ``subject`` says what kind of thing ``path`` is and what failed ("cannot decode image file");
    ``also`` lists more paths with the same problem; ``action`` says how to fix it;
    ``skip_option`` names the parameter that skips such data instead.
    """

    def __init__(self, path: str, reason: str, *, subject: str = "bad data in",
                 also: tuple[str, ...] | list[str] = (), also_incomplete: bool = False,
                 action: str = "Fix or remove the file", skip_option: str | None = None,
                 node_def=None, op=None) -> None:
        self.path = str(path)
        self.reason = reason
        self.subject = subject
        self.also = tuple(str(p) for p in also)
        self.also_incomplete = also_incomplete
        self.action = action
        self.skip_option = skip_option
        super().__init__(node_def, op, "mox: " + self.describe(python_spelling))

    def describe(self, spell: Callable[[str], str] = python_spelling) -> str:
        """The error in one line, the skip option spelled by ``spell``."""
        others = ""
        if self.also:
            others = (f" (also: {', '.join(self.also)}"
                      f"{', and maybe more' if self.also_incomplete else ''})")
        text = f"{self.subject} {self.path}: {self.reason}{others}. {self.action}"
        if self.skip_option:
            text += f", or pass {spell(self.skip_option)} to skip such files"
        return text + "."

    def __reduce__(self):  # picklable across processes, like TensorFlow's own errors
        return (_rebuild, (self.path, self.reason, self.subject, self.also,
                           self.also_incomplete, self.action, self.skip_option))


def _rebuild(path, reason, subject, also, also_incomplete, action, skip_option) -> DataError:
    return DataError(path, reason, subject=subject, also=also, also_incomplete=also_incomplete,
                     action=action, skip_option=skip_option)
