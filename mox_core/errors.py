"""Typed errors about the user's data, raised where the problem is found and worded by the caller.

A :class:`DataError` names the thing at fault (``path``: a file, a shard, a record) and what is
wrong with it (``reason``); ``skip_option`` is the parameter that would skip such data, if any.
The Python API raises it as is (its message spells the option ``skip_corrupt=True``); the
command line prints :meth:`DataError.describe` with its own spelling (``--skip-corrupt``).

It is a ``tf.errors.InvalidArgumentError`` (what TensorFlow raised before mox named the file, so
existing ``except`` clauses keep working) and a ``ValueError`` (what mox raises for bad input
found outside a session).

Bad data found *while a session runs* surfaces as a TensorFlow error from deep inside an input
pipeline, which rarely names the file. Whoever builds a pipeline into a graph knows how to read
such an error, so it registers an *explainer* for that graph (:func:`add_explainer`); whoever
runs the graph wraps its session in :func:`explain_data_errors`, which turns an error an
explainer recognises into the :class:`DataError` it returns. The two sides never import each
other: ``mox.run`` knows nothing of the datasets, the datasets nothing of ``mox.run``.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator

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
    ``skip_option`` names the parameter that skips such data instead, and ``skips`` what it
    then does.
    """

    def __init__(self, path: str, reason: str, *, subject: str = "bad data in",
                 also: tuple[str, ...] | list[str] = (), also_incomplete: bool = False,
                 action: str = "Fix or remove the file", skip_option: str | None = None,
                 skips: str = "to skip such files", node_def=None, op=None) -> None:
        self.path = str(path)
        self.reason = reason
        self.subject = subject
        self.also = tuple(str(p) for p in also)
        self.also_incomplete = also_incomplete
        self.action = action
        self.skip_option = skip_option
        self.skips = skips
        super().__init__(node_def, op, "mox: " + self.describe(python_spelling))

    def describe(self, spell: Callable[[str], str] = python_spelling) -> str:
        """The error in one line, the skip option spelled by ``spell``."""
        others = ""
        if self.also:
            others = (f" (also: {', '.join(self.also)}"
                      f"{', and maybe more' if self.also_incomplete else ''})")
        text = f"{self.subject} {self.path}: {self.reason}{others}. {self.action}"
        if self.skip_option:
            text += f", or pass {spell(self.skip_option)} {self.skips}"
        return text + "."

    @classmethod
    def message_around(cls, **details) -> tuple[str, str, str]:
        """The message of such an error cut around its path and reason: the text before the
        path, between path and reason, and after the reason. For a message put together where
        path and reason are only known later (``tf.strings.join`` in an input pipeline), so it
        reads exactly as the raised error would."""
        marker = "\0"
        before, between, after = cls(marker, marker, **details).message.split(marker)
        return before, between, after

    def __reduce__(self):  # picklable across processes, like TensorFlow's own errors
        return (_rebuild, (self.path, self.reason, self.subject, self.also,
                           self.also_incomplete, self.action, self.skip_option, self.skips))


def _rebuild(path, reason, subject, also, also_incomplete, action, skip_option,
             skips) -> DataError:
    return DataError(path, reason, subject=subject, also=also, also_incomplete=also_incomplete,
                     action=action, skip_option=skip_option, skips=skips)


#: what explains a TensorFlow error: a DataError naming the data at fault, or None (not mine)
Explainer = Callable[[tf.errors.OpError], "DataError | None"]

#: graph -> the explainers registered for it, in registration order
_EXPLAINERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def add_explainer(graph, explain: Explainer) -> None:
    """Ask ``explain`` about the TensorFlow errors raised while ``graph`` runs inside
    :func:`explain_data_errors` (once, however often it is added). ``graph`` may be a function
    graph a ``tf.data`` pipeline traces: the explainer goes to the graph it belongs to.

    ``explain`` lives as long as ``graph``: it must not hold the graph or its tensors (that
    would keep the graph alive for good); hold such things through a ``weakref``.
    """
    while getattr(graph, "outer_graph", None) is not None:  # a tf.data function being traced
        graph = graph.outer_graph  # belongs to the graph the session runs
    explainers = _EXPLAINERS.setdefault(graph, [])
    if explain not in explainers:
        explainers.append(explain)


@contextlib.contextmanager
def explain_data_errors(graph) -> Iterator[None]:
    """Around a session that runs ``graph``: a TensorFlow error that one of the graph's
    explainers recognises becomes the :class:`DataError` it returns (raised from the original);
    any other error passes unchanged. ``mox.run`` wraps its sessions in it; wrap a session of
    your own that reads mox's datasets the same way.

    A TensorFlow error whose message is not UTF-8 (one quoting the bytes of a record that does
    not parse) reaches Python as a ``UnicodeDecodeError`` raised by ``Session.run`` itself; its
    bytes are the message, so the explainers are asked about it too.
    """
    try:
        yield
    except tf.errors.OpError as error:
        if isinstance(error, DataError):
            raise
        _explain(graph, error, error)
        raise
    except UnicodeDecodeError as error:
        if isinstance(error.object, bytes):
            message = error.object.decode("utf-8", "replace")
            _explain(graph, tf.errors.UnknownError(None, None, message), error)
        raise


def _explain(graph, error: tf.errors.OpError, raised: BaseException) -> None:
    """Raise the DataError the first of ``graph``'s explainers makes of ``error``, if any."""
    for explain in list(_EXPLAINERS.get(graph, ())):
        explained = explain(error)
        if explained is not None:
            raise explained from raised
