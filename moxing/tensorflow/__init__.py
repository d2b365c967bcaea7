"""``moxing.tensorflow`` is ``mox_core``, under MoXing's name.

``import moxing.tensorflow as mox`` binds the very ``mox_core`` module, and every submodule path
of MoXing's API (``moxing.tensorflow.executor``, ``.nets``, ``.optimizer.learning_rate_scheduler``,
...) is the ``mox_core`` module of the same name: one module object per idea, never a copy, so
flags are defined once and registries are shared.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys

import mox_core

_ALIAS = __name__  # "moxing.tensorflow"
_TARGET = "mox_core"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self._target = target

    def create_module(self, spec):
        return importlib.import_module(self._target)

    def exec_module(self, module) -> None:
        """The target module is already executed by its own import."""


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``moxing.tensorflow.X`` as the module ``mox_core.X``."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(_ALIAS + "."):
            return None
        real = _TARGET + fullname[len(_ALIAS) :]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(real))


if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _AliasFinder())

sys.modules[_ALIAS] = mox_core
