"""Compatibility package: ``import moxing.tensorflow as mox`` gives mox's API.

Ported ModelArts scripts keep their imports; see ``moxing.tensorflow``.
"""
