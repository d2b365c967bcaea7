"""Compatibility package: ``import moxing.tensorflow as mox`` gives mox's API.

Ported ModelArts scripts keep their imports; see ``moxing.tensorflow``.
"""


def __getattr__(name: str):
    """``import moxing as mox; mox.file`` is ``mox_core.file`` (MoXing's ``moxing.file``)."""
    if name == "file":
        import importlib

        return importlib.import_module("mox_core.file")
    raise AttributeError(f"module 'moxing' has no attribute {name!r}")
