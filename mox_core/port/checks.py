"""What ``mox port`` reports and does not rewrite, because the right rewrite is a judgement.

* ``/`` between counts (``num_samples / batch_size``): Python 2 floored it when both sides were
  integers, Python 3 gives a float, which breaks ``range()``, indexing and step counts. Whether a
  fraction or a whole number was meant cannot be told from the text: the line is reported.
  Files with ``from __future__ import division`` already meant Python 3's ``/``.
* TensorFlow names that ``tf.compat.v1`` of the installed TensorFlow does not have
  (``tf.contrib.*``, ``tf.estimator``) or cannot run (``tf.layers`` under Keras 3), looked up
  in the installed TensorFlow itself, each with what to use instead.
* Imports of TensorFlow modules that do not exist any more (``from tensorflow.contrib import
  layers``).
* ``tf.py_func`` / ``tf.numpy_function``, whose string arguments are ``bytes`` in Python 3.
"""

from __future__ import annotations

import ast
import importlib.util
import re

from mox_core.port.edits import Source
from mox_core.port.report import Problem

_COUNT = re.compile(r"(^|_)(num|count|counts|size|steps?|epochs?|total|samples|examples|batch|"
                    r"batches|len|length|n|iters?|iterations?|gpus?|workers?|hosts?|shards?)"
                    r"(_|$)", re.I)
_INT_OPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)
_DIVISION_ADVICE = ("write `//` if a whole number is meant (a count, an index, a number of "
                    "steps); leave `/` if a fraction is meant")
_ADVICE = (
    ("contrib.slim", "use mox_core.slim (TF-Slim's layers, arg_scope, losses); for "
                     "slim's nets, mox.get_model_fn"),
    ("contrib.layers", "TF-Slim's layers, initializers and regularizers (conv2d, "
                       "fully_connected, flatten, xavier_initializer, l2_regularizer, ...) "
                       "are in mox_core.slim"),
    ("contrib.framework", "arg_scope and add_arg_scope are in mox_core.slim; the variable "
                          "helpers are tf.compat.v1's (tf.global_variables, ...)"),
    ("contrib.rnn", "the common cells are in tf.nn.rnn_cell"),
    ("contrib", "tf.contrib is gone in TensorFlow 2: use the TensorFlow 2 equivalent the "
                "TensorFlow 2 migration guide names, or keep a copy of the code"),
    ("estimator", "tf.estimator is gone in TensorFlow 2.16+: mox.run takes the same "
                  "input_fn/model_fn pair (model_fn returns a mox.ModelSpec)"),
    ("layers", "use mox_core.slim's layers (conv2d, fully_connected, max_pool2d, dropout, "
               "batch_norm, flatten; same math, TF-Slim's variable names; no "
               "conv2d_transpose), or install tf_keras of your TensorFlow's version and set "
               "the environment variable TF_USE_LEGACY_KERAS=1 before TensorFlow is imported"),
)
_PY_FUNCS = ("py_func", "numpy_function")
_BYTES_ADVICE = ("decode string arguments in the function (`value.decode()`) where it treats "
                 "them as text, e.g. ord(ch) for ch in value.decode()")
_WHOLE = ("int", "round", "math.ceil", "math.floor", "np.ceil", "np.floor", "numpy.ceil",
          "numpy.floor")


def _count_like(node: ast.AST) -> bool:
    """An integer-looking expression: an int literal, ``len(...)``/``int(...)``, a name that
    says count, or integer arithmetic of those."""
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id in ("len", "int")
    if isinstance(node, ast.BinOp) and isinstance(node.op, _INT_OPS):
        return _count_like(node.left) and _count_like(node.right)
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
    return isinstance(name, str) and bool(_COUNT.search(name))


def _made_whole(tree: ast.Module) -> set[int]:
    """Ids of the nodes inside ``int(...)``, ``round(...)``, ``math.ceil(...)``, ...: a division
    there already says what it wants."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in _WHOLE:
            for arg in node.args:
                inside.update(id(sub) for sub in ast.walk(arg))
    return inside


def integer_divisions(tree: ast.Module, text: str) -> list[Problem]:
    """``/`` between two count-like expressions, one problem each (not inside ``int(...)`` or
    another call that makes the result whole)."""
    source = Source(text)
    problems = []
    whole = _made_whole(tree)
    for node in ast.walk(tree):
        if id(node) in whole:
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left, right = node.left, node.right
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Div):
            left, right = node.target, node.value
        else:
            continue
        if _count_like(left) and _count_like(right):
            segment = " ".join(source.segment(*source.node_span(node)).split())
            problems.append(Problem(
                node.lineno, f"`{segment}`: `/` of integers floored in Python 2, gives a "
                "float in Python 3", _DIVISION_ADVICE))
    return problems


def _advice(chain: str) -> str:
    return next(advice for prefix, advice in (*_ADVICE, ("", "")) if
                chain == prefix or chain.startswith(prefix + ".") or not prefix)


def _compat_v1_names(tree: ast.Module) -> set[str]:
    return {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
            for alias in node.names if alias.name == "tensorflow.compat.v1" and alias.asname}


def _outer_chains(tree: ast.Module, roots: set[str]):
    """(node, "a.b.c") for each outermost attribute chain on one of ``roots``."""
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        parts, value = [], node
        while isinstance(value, ast.Attribute):
            parts.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name) and value.id in roots:
            yield node, value.id, list(reversed(parts))


def _first_missing(module, parts: list[str]) -> int | None:
    """The index of the first of ``parts`` that ``module.a.b...`` lacks, ``None`` if none."""
    value = module
    for index, part in enumerate(parts):
        try:
            value = getattr(value, part)
        except Exception:  # noqa: BLE001 -- a lazy module failing to load is missing too
            return index
    return None


def missing_tensorflow_names(tree: ast.Module) -> list[Problem]:
    """``tf.X`` chains that the installed ``tf.compat.v1`` lacks or cannot run."""
    roots = _compat_v1_names(tree)
    if not roots:
        return []
    import tensorflow.compat.v1 as tf1

    version = tf1.VERSION
    problems, seen = [], set()
    for node, root, parts in _outer_chains(tree, roots):
        missing = _first_missing(tf1, parts)
        if missing is None and (parts[0] != "layers" or len(parts) == 1):
            continue
        chain = ".".join(parts)
        if (node.lineno, chain) in seen:
            continue
        seen.add((node.lineno, chain))
        keras_2 = parts[0] == "layers" and len(parts) > 1  # present or not, it cannot run
        what = (f"{root}.{chain} needs Keras 2; TensorFlow {version} runs Keras 3" if keras_2
                else f"{root}.{chain}: {root}.{'.'.join(parts[:missing + 1])} does not exist "
                f"in TensorFlow {version}'s tf.compat.v1")
        problems.append(Problem(node.lineno, what, _advice(chain) or "find its TensorFlow 2 "
                                "equivalent in the TensorFlow 2 migration guide"))
    return problems


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_tensorflow_modules(tree: ast.Module) -> list[Problem]:
    """Imports of ``tensorflow.*`` modules (or names from them) that do not exist."""
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
            if node.module == "tensorflow.contrib":
                names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("tensorflow.") and not _module_exists(name):
                chain = name.split(".", 1)[1]
                problems.append(Problem(node.lineno, f"module {name} does not exist in this "
                                        "TensorFlow", _advice(chain) or "find its TensorFlow "
                                        "2 equivalent in the TensorFlow 2 migration guide"))
    return problems


def string_py_funcs(tree: ast.Module) -> list[Problem]:
    """``tf.py_func`` / ``tf.numpy_function`` calls: Python 3 hands them string tensors as
    ``bytes`` (Python 2's ``str`` was bytes and text at once), so text handling inside breaks
    (``ord(ch) for ch in value`` gets ints). Whether a function handles strings cannot be told
    reliably from the text: each call is reported."""
    roots = _compat_v1_names(tree)
    problems = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in _PY_FUNCS and isinstance(node.func.value, ast.Name)
                and node.func.value.id in roots):
            problems.append(Problem(
                node.lineno, f"{node.func.value.id}.{node.func.attr}: string tensors reach the "
                "function as bytes in Python 3 (str in Python 2)", _BYTES_ADVICE))
    return problems
