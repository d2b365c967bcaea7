"""``moxing.framework``: the framework-neutral part of MoXing that scripts import from.

``from moxing.framework import file`` is ``mox_core.file`` (the ``mox.file`` API);
``moxing.framework.util.compat`` and ``.runtime`` hold the two helpers published scripts use.
"""


def __getattr__(name: str):
    if name == "file":
        import importlib

        return importlib.import_module("moxing.framework.file")
    raise AttributeError(f"module 'moxing.framework' has no attribute {name!r}")
