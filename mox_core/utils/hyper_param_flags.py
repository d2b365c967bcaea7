"""``moxing.tensorflow.utils.hyper_param_flags``: ``mox_flags``, the run flags as MoXing's
documentation shows them (``print(mox_flags.get_help())``).

The flags themselves live in absl's registry (:mod:`mox_core.flags`); ``mox_flags`` reads
them by attribute too (``mox_flags.num_gpus``), like absl's ``FLAGS``.
"""

from __future__ import annotations

from typing import Any


class _MoxFlags:
    """The run flags: ``get_help()`` for the list, ``mox_flags.<name>`` for a value."""

    def get_help(self) -> str:
        """One block per flag: ``--name: help`` and its type, default and current value."""
        from mox_core import flags

        blocks = []
        for spec in flags.flag_specs():
            blocks.append(
                f"--{spec.name}: {spec.help}\n"
                f"    (type: {spec.type}; default: {spec.default!r}; "
                f"current: {flags.get_flag(spec.name)!r}; from {spec.distribution})"
            )
        return "\n".join(blocks)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        from mox_core import flags

        try:
            return flags.get_flag(name)
        except ValueError as exc:  # an unknown flag: what getattr and hasattr expect
            raise AttributeError(str(exc)) from None

    def __repr__(self) -> str:
        return "<mox run flags: print(mox_flags.get_help()) lists them>"


mox_flags = _MoxFlags()
