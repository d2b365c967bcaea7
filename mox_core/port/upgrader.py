"""TensorFlow's own upgrader (``tf_upgrade_v2``), run in its SAFETY mode, for the ``tf.*`` API.

Why SAFETY mode, whose only rewrite is ``import tensorflow as tf`` -> ``import
tensorflow.compat.v1 as tf``, and not the default mode that keeps ``import tensorflow as tf``
and renames calls (``tf.placeholder`` -> ``tf.compat.v1.placeholder``, ``tf.log`` ->
``tf.math.log``, ``keep_prob`` -> ``rate``): mox runs a script's graph code inside its own
``tf.Graph``, in graph mode, and ``tf.compat.v1`` *is* TensorFlow 1.x's API there. Every
``tf.*`` line then keeps its TF 1.x meaning, the diff is one line per import, and what the
default mode leaves broken works: ``tf.flags`` / ``tf.app.flags`` (which the default mode
reports as removed and leaves as they are) are absl's flags in ``tf.compat.v1``, as mox's run
flags expect. The default mode's renames would fix nothing more: what ``tf.compat.v1`` lacks
(``tf.contrib``, ``tf.estimator``) or cannot run (``tf.layers`` under Keras 3) it cannot port
either. ``mox_core.port.checks`` reports those lines.

Adjusted here: ``tensorflow.python`` / ``.core`` / ``.tools`` / ``.examples`` imports keep
their path (``tensorflow.compat.v1.python`` does not exist), and the upgrader's messages about
``tf.flags`` (true only outside ``compat.v1``) and its generic one about ``tf.contrib`` (the
checks give mox-specific advice instead) are left out.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import warnings

from mox_core.port.report import Change, Problem

_KEEP_PATH = ("tensorflow.python", "tensorflow.core", "tensorflow.tools", "tensorflow.examples")
_WHY = "TF 1.x API through tf.compat.v1 (TensorFlow's tf_upgrade_v2, SAFETY mode)"
_LOG_LINE = re.compile(r"(\d+):\d+: (\w+): (.*)", re.S)
_ADVICE = "check this line by hand (TensorFlow's tf_upgrade_v2 says so)"


@functools.lru_cache(maxsize=1)
def _upgrader():
    """The upgrader, built once: importing it imports TensorFlow (seconds)."""
    from tensorflow.tools.compatibility import ast_edits, tf_upgrade_v2_safety

    class CompatV1Spec(tf_upgrade_v2_safety.TFAPIChangeSpec):
        def __init__(self) -> None:
            super().__init__()
            kept = self.import_renames["tensorflow"]
            self.import_renames = {"tensorflow": ast_edits.ImportRename(
                kept.new_name, excluded_prefixes=[*kept.excluded_prefixes, *_KEEP_PATH])}
            self.module_deprecations = {
                name: warning for name, warning in self.module_deprecations.items()
                if name not in ("tf.contrib", "tf.flags", "tf.app.flags")}

    return ast_edits, ast_edits.ASTCodeUpgrader(CompatV1Spec())


def upgrade(text: str, name: str) -> tuple[str, list[Change], list[Problem]]:
    """``text`` through the upgrader: one change per line it rewrote, its warnings as
    problems. ``text`` must parse (the upgrader reads it with Python 3's ``ast``)."""
    ast_edits, upgrader = _upgrader()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pasta's visit_Num & co.
        _, new_text, log, _ = upgrader.update_string_pasta(text, name)  # prints its log
    messages: dict[int, list[str]] = {}
    problems = []
    for entry in log:  # "line:col: SEVERITY: message"
        found = _LOG_LINE.match(entry)
        if found is None:
            continue
        line, severity, message = int(found[1]), found[2], " ".join(found[3].split())
        if severity == ast_edits.INFO:
            messages.setdefault(line, []).append(message)
        else:
            problems.append(Problem(line, message, _ADVICE))
    old_lines, new_lines = text.split("\n"), new_text.split("\n")
    if len(old_lines) != len(new_lines):
        raise AssertionError("TensorFlow's upgrader changed the number of lines")
    changes = [
        Change(number, old.strip(), new.strip(), _WHY)
        for number, (old, new) in enumerate(zip(old_lines, new_lines), start=1) if old != new
    ]
    return new_text, changes, problems
