"""The MoXing-specific rewrites that TensorFlow's upgrader leaves undone.

* TF-Slim: ``import tensorflow.contrib.slim as slim``, ``from tensorflow.contrib import slim``,
  ``slim = tf.contrib.slim`` and inline ``tf.contrib.slim.conv2d(...)`` -> ``mox_core.slim``,
  the slim-compatible module of mox (TF-Slim's layers with its variable names, so checkpoints
  still load). ``tensorflow.contrib.slim.nets`` has no such stand-in: it is reported, with
  ``mox.get_model_fn`` as what to use instead.
* The MNIST tutorial reader: ``tensorflow.examples.tutorials.mnist`` ->
  ``mox_core.tutorials.mnist`` (the same ``input_data.read_data_sets``, reading local copies).

Only import statements and ``<tf>.contrib.slim`` are touched. Each rewrite stays on its line: an
inline use of ``tf.contrib.slim`` gets its ``import mox_core.slim`` appended after the
TensorFlow import, on the same line, with ``;``.

After TensorFlow's upgrader, :func:`graph_mode` appends ``; tf.disable_eager_execution()`` to
the ``import tensorflow.compat.v1 as tf`` line of a script that runs sessions itself
(``tf.Session``, ``tf.train.Supervisor``, ...): its module-level ops must be graph tensors, as
on TensorFlow 1.x. ``mox.run`` needs nothing of the kind (it builds its own graph) and works
either way.
"""

from __future__ import annotations

import ast
import re

from mox_core.port.edits import Edit, Source
from mox_core.port.report import Change, Problem

SLIM = "mox_core.slim"
MNIST_OLD = "tensorflow.examples.tutorials.mnist"
MNIST_NEW = "mox_core.tutorials.mnist"
_SLIM_WHY = "tf.contrib is gone from TensorFlow 2; mox_core.slim is mox's TF-Slim"
_MNIST_WHY = ("TensorFlow 2 removed the tutorial reader; mox_core.tutorials.mnist reads the same "
              "four files (and never downloads)")
_NETS_ADVICE = ("build TF-Slim's networks with mox.get_model_fn(name, run_mode, num_classes) "
                "(`mox nets` lists them; their variables keep TF-Slim's names)")


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else ``None``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def tensorflow_names(tree: ast.Module) -> dict[str, ast.stmt]:
    """Names bound to TensorFlow (``tf`` of ``import tensorflow as tf``, ``tensorflow`` of
    ``import tensorflow``), each with the first import statement that binds it."""
    names: dict[str, ast.stmt] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ("tensorflow", "tensorflow.compat.v1") and alias.asname:
                    names.setdefault(alias.asname, node)
                elif alias.name.split(".")[0] == "tensorflow" and not alias.asname and (
                        not alias.name.startswith("tensorflow.contrib")):
                    names.setdefault("tensorflow", node)
    return names


class _Rewriter:
    def __init__(self, text: str, tree: ast.Module) -> None:
        self.source = Source(text)
        self.tree = tree
        self.edits: list[Edit] = []
        self.changes: list[Change] = []
        self.problems: list[Problem] = []
        self.slim_imported = False  # an ``import tensorflow.contrib.slim`` became the import

    def replace(self, node: ast.AST, text: str, why: str) -> None:
        start, end = self.source.node_span(node)
        self.edits.append(Edit(start, end, text))
        self.changes.append(Change(start[0], self.source.segment(start, end), text, why))

    def import_(self, node: ast.Import) -> None:
        for alias in node.names:
            name = alias.name
            if name == "tensorflow.contrib.slim":
                self.replace(alias, f"{SLIM} as {alias.asname}" if alias.asname else SLIM,
                             _SLIM_WHY)
                self.slim_imported = self.slim_imported or not alias.asname
            elif name.startswith("tensorflow.contrib.slim."):
                self.problems.append(Problem(node.lineno, f"import {name}: no mox stand-in",
                                             _NETS_ADVICE))
            elif (name == MNIST_OLD or name.startswith(MNIST_OLD + ".")) and alias.asname:
                self.replace(alias, f"{MNIST_NEW}{name[len(MNIST_OLD):]} as {alias.asname}",
                             _MNIST_WHY)
            elif name.startswith(MNIST_OLD):
                self.problems.append(Problem(
                    node.lineno, f"import {name} without 'as': its uses spell the old path",
                    f"write `from {MNIST_NEW} import input_data` and use input_data.*"))

    def import_from(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            return
        if module == "tensorflow.contrib":
            names = [alias.name for alias in node.names]
            if names == ["slim"] * len(names):
                self._rename_module(node, module, "mox_core", _SLIM_WHY)
            elif "slim" in names:
                self.problems.append(Problem(
                    node.lineno, f"from tensorflow.contrib import {', '.join(names)}: only "
                    "slim has a mox stand-in", "import slim alone: `from mox_core import "
                    "slim`; replace the others (see the report lines about tf.contrib)"))
        elif module == "tensorflow.contrib.slim":
            self._rename_module(node, module, SLIM, _SLIM_WHY)
        elif module.startswith("tensorflow.contrib.slim."):
            self.problems.append(Problem(node.lineno, f"from {module} import ...: no mox "
                                         "stand-in", _NETS_ADVICE))
        elif module == MNIST_OLD or module.startswith(MNIST_OLD + "."):
            self._rename_module(node, module, MNIST_NEW + module[len(MNIST_OLD):], _MNIST_WHY)

    def _rename_module(self, node: ast.ImportFrom, old: str, new: str, why: str) -> None:
        start, end = self.source.node_span(node)
        statement = self.source.segment(start, end)
        pattern = r"from\s+" + r"\s*\.\s*".join(map(re.escape, old.split(".")))
        found = re.match(pattern, statement)
        if found is None:
            self.problems.append(Problem(node.lineno, f"could not locate {old} in the import",
                                         f"write `from {new} import ...`"))
            return
        first = self.source.offset(start) + found.start()
        line_start = self.source.offset((start[0], 0))
        # the match starts at the statement, on its first line
        at = (start[0], first - line_start)
        until = (start[0], first - line_start + found.end())
        self.edits.append(Edit(at, until, f"from {new}"))
        new_statement = statement[:found.start()] + f"from {new}" + statement[found.end():]
        self.changes.append(Change(start[0], statement, new_statement, why))

    def slim_uses(self, tf_names: dict[str, ast.stmt]) -> None:
        """``slim = tf.contrib.slim`` and inline ``tf.contrib.slim`` chains."""
        slim_chains = {f"{name}.contrib.slim" for name in tf_names}
        in_assignments: set[int] = set()
        for node in ast.walk(self.tree):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and _dotted(node.value) in slim_chains):
                in_assignments.add(id(node.value))
                self.replace(node, f"import {SLIM} as {node.targets[0].id}", _SLIM_WHY)
        inline = [node for node in ast.walk(self.tree)
                  if isinstance(node, ast.Attribute) and _dotted(node) in slim_chains
                  and id(node) not in in_assignments]
        for node in inline:
            self.replace(node, SLIM, _SLIM_WHY)
        if inline and not self.slim_imported and not self._imports_slim_module():
            root = _dotted(inline[0]).split(".")[0]
            anchor = tf_names[root]
            end = self.source.node_span(anchor)[1]
            self.edits.append(Edit(end, end, f"; import {SLIM}"))
            line = self.source.line(anchor.lineno).rstrip("\n")
            self.changes.append(Change(anchor.lineno, line, f"{line}; import {SLIM}",
                                       f"the uses of {SLIM} above need it imported"))

    def _imports_slim_module(self) -> bool:
        return any(isinstance(node, ast.Import)
                   and any(alias.name == SLIM and not alias.asname for alias in node.names)
                   for node in ast.walk(self.tree))


def rewrite_moxing(text: str, tree: ast.Module) -> tuple[str, list[Change], list[Problem]]:
    """``text`` (which parses to ``tree``) with TF-Slim and the MNIST reader pointed at mox."""
    rewriter = _Rewriter(text, tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            rewriter.import_(node)
        elif isinstance(node, ast.ImportFrom):
            rewriter.import_from(node)
    rewriter.slim_uses(tensorflow_names(tree))
    if not rewriter.edits:
        return text, [], rewriter.problems
    return rewriter.source.apply(rewriter.edits), rewriter.changes, rewriter.problems


_SESSIONS = ("Session", "InteractiveSession", "train.Supervisor", "train.MonitoredSession",
             "train.MonitoredTrainingSession", "train.SingularMonitoredSession")
_GRAPH_MODE_WHY = ("the script runs sessions on ops it builds itself, which TensorFlow 2 would "
                   "run eagerly; TensorFlow 1.x's graph mode (mox.run is unaffected)")


def graph_mode(text: str, tree: ast.Module) -> tuple[str, list[Change]]:
    """Append ``; <tf>.disable_eager_execution()`` to the ``tensorflow.compat.v1`` import of a
    script that opens sessions itself and does not leave eager mode already."""
    if "disable_eager_execution" in text or "disable_v2_behavior" in text:
        return text, []
    imports = {alias.asname: node for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names if alias.name == "tensorflow.compat.v1" and alias.asname}
    sessions = {f"{root}.{name}" for root in imports for name in _SESSIONS}
    used = sorted({_dotted(node.func).split(".")[0] for node in ast.walk(tree)
                   if isinstance(node, ast.Call) and _dotted(node.func) in sessions})
    if not used:
        return text, []
    root = used[0]
    anchor = min((node for alias, node in imports.items() if alias == root),
                 key=lambda node: node.lineno)
    source = Source(text)
    end = source.node_span(anchor)[1]
    line = source.line(anchor.lineno).rstrip("\n")
    addition = f"; {root}.disable_eager_execution()"
    change = Change(anchor.lineno, line, line[:end[1]] + addition + line[end[1]:],
                    _GRAPH_MODE_WHY)
    return source.apply([Edit(end, end, addition)]), [change]
