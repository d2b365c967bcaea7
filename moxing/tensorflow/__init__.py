"""``moxing.tensorflow`` is ``mox_core``, under MoXing's name.

``import moxing.tensorflow as mox`` binds the very ``mox_core`` module, and every submodule path
of MoXing's API (``moxing.tensorflow.executor``, ``.nets``, ``.optimizer.learning_rate_scheduler``,
...) is the ``mox_core`` module of the same name: one module object per idea, never a copy, so
flags are defined once and registries are shared. The few MoXing paths whose names mox keeps in
a module of another name (``datasets.raw.raw_dataset``, ``datasets.reader.raw_reader``) are
listed in ``_MOXING_PATHS``.
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


# MoXing module paths whose names live in a mox_core module of another name. Published
# notebooks import ``split_image_classification_dataset`` from both entries of the raw datasets.
_MOXING_PATHS = {
    "datasets.raw": "mox_core.datasets.raw",
    "datasets.raw.raw_dataset": "mox_core.datasets.raw",
    "datasets.reader": "mox_core.datasets.readers",
    "datasets.reader.raw_reader": "mox_core.datasets.raw",
}
# Of those, the ones MoXing has as packages: their modules need a ``__path__`` (empty: only this
# finder resolves their children) for ``import moxing.tensorflow.datasets.raw.raw_dataset``.
_MOXING_PACKAGES = {"datasets.raw", "datasets.reader"}


def _target_of(relative: str) -> str:
    return _MOXING_PATHS.get(relative, f"{_TARGET}.{relative}")


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str, relative: str = "", package: bool = False) -> None:
        self._target = target
        self._relative = relative
        self._package = package

    def create_module(self, spec):
        module = importlib.import_module(self._target)
        if self._package:
            if not hasattr(module, "__path__"):
                module.__path__ = []
            # ``from <package> import <child>`` looks the child up under the module's own name,
            # which MoXing's child names are not: give the module its children as attributes.
            prefix = self._relative + "."
            for path, target in _MOXING_PATHS.items():
                if path.startswith(prefix) and "." not in path[len(prefix):]:
                    setattr(module, path[len(prefix):], importlib.import_module(target))
        return module

    def exec_module(self, module) -> None:
        """The target module is already executed by its own import."""


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``moxing.tensorflow.X`` as the module ``mox_core.X``."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(_ALIAS + "."):
            return None
        relative = fullname[len(_ALIAS) + 1 :]
        lacking = mox_core._NOT_PROVIDED.get(relative.split(".")[0])
        if lacking:
            raise ModuleNotFoundError(lacking, name=fullname)
        real = _target_of(relative)
        if importlib.util.find_spec(real) is None:
            return None
        loader = _AliasLoader(real, relative, package=relative in _MOXING_PACKAGES)
        return importlib.machinery.ModuleSpec(fullname, loader)


if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _AliasFinder())

sys.modules[_ALIAS] = mox_core
