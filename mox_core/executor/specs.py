"""What ``model_fn`` returns: ``ModelSpec`` and, for exporting, ``ExportSpec``.

Both are plain holders; ``ModelSpec.check(mode)`` is where the executor learns, before any
session starts, whether a spec is usable in a mode, with errors that say what to change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mox_core.constants import ModeKeys


class ExportSpec:
    """The SavedModel interface: ``inputs_dict`` / ``outputs_dict`` name -> tensor.

    ``version=-1`` exports to ``log_dir/<next free integer>/``; an integer ``n >= 1`` to
    ``log_dir/<n>/`` (an existing folder is an error); the string ``'model'`` to
    ``log_dir/model/``, the ModelArts model-package layout.
    """

    def __init__(self, inputs_dict: Mapping[str, Any], outputs_dict: Mapping[str, Any],
                 version: int | str = -1) -> None:
        for what, value in (("inputs_dict", inputs_dict), ("outputs_dict", outputs_dict)):
            if not isinstance(value, Mapping) or not value:
                raise ValueError(f"ExportSpec {what} must be a non-empty dict of name -> tensor, "
                                 f"got {value!r}")
            for key in value:
                if not isinstance(key, str):
                    raise ValueError(f"ExportSpec {what} keys must be strings, got {key!r}")
        if isinstance(version, bool) or not (
            version == "model" or (isinstance(version, int) and (version == -1 or version >= 1))
        ):
            raise ValueError(
                f"ExportSpec version must be -1 (next free integer), an integer >= 1 or "
                f"'model', got {version!r}"
            )
        self.inputs_dict = dict(inputs_dict)
        self.outputs_dict = dict(outputs_dict)
        self.version = version

    def __repr__(self) -> str:
        return (f"ExportSpec(inputs={sorted(self.inputs_dict)}, "
                f"outputs={sorted(self.outputs_dict)}, version={self.version!r})")


class ModelSpec:
    """What the model built by ``model_fn`` offers to each run mode.

    - ``loss``: a scalar tensor, or a list of them (e.g. a GAN's ``[D_loss, G_loss]``): needed
      for TRAIN. Every loss is minimized once per step on the same input.
    - ``var_scopes``: the variable scopes each loss updates: a list of scope names for one loss,
      a list of such lists for several (``[['discriminator'], ['generator']]``). ``None`` means
      every trainable variable.
    - ``log_info``: name -> scalar tensor, logged every ``log_every_n_steps`` and averaged over
      the data in EVAL (needed for EVAL).
    - ``output_info`` (MoXing also calls it ``output_dict``): name -> tensor handed to
      ``output_fn`` (needed for PREDICT).
    - ``export_spec``: an :class:`ExportSpec` (needed for EXPORT).
    - ``hooks``: ``AggregativeSessionRunHook`` instances run with the session.
    """

    def __init__(self, loss=None, var_scopes=None, log_info=None, output_info=None,
                 export_spec=None, hooks=None, output_dict=None) -> None:
        if output_info is not None and output_dict is not None:
            raise ValueError("give ModelSpec output_info or output_dict (the same thing), "
                             "not both")
        self.loss = loss
        self.var_scopes = var_scopes
        self.log_info = dict(log_info) if log_info is not None else {}
        self.output_info = dict(output_info if output_info is not None else output_dict or {})
        self.export_spec = export_spec
        self.hooks = list(hooks) if hooks is not None else []

    @property
    def output_dict(self) -> dict:
        return self.output_info

    @property
    def losses(self) -> list:
        """``loss`` as a list (empty when there is none)."""
        if self.loss is None:
            return []
        return list(self.loss) if isinstance(self.loss, (list, tuple)) else [self.loss]

    def scopes_per_loss(self) -> list[list[str] | None]:
        """``var_scopes`` normalised to one entry per loss (``None``: all trainable variables)."""
        losses = self.losses
        scopes = self.var_scopes
        if scopes is None:
            return [None] * len(losses)
        if isinstance(scopes, str):
            scopes = [scopes]
        if not isinstance(scopes, Sequence):
            raise ValueError(f"ModelSpec var_scopes must be a list, got {scopes!r}")
        nested = [s for s in scopes if not isinstance(s, str)]
        if len(losses) > 1 or nested:
            if len(scopes) != len(losses):
                raise ValueError(
                    f"ModelSpec has {len(losses)} losses but var_scopes has {len(scopes)} "
                    f"entries; give one list of scopes per loss, e.g. [['discriminator'], "
                    f"['generator']]"
                )
            return [[s] if isinstance(s, str) else (list(s) if s is not None else None)
                    for s in scopes]
        return [list(scopes)]

    def check(self, mode: str) -> None:
        """Raise ``ValueError`` naming what ``mode`` needs and this spec lacks or has wrong."""
        import tensorflow.compat.v1 as tf

        if mode == ModeKeys.TRAIN:
            if not self.losses:
                raise ValueError("model_fn must return ModelSpec(loss=...) in TRAIN mode")
            for index, loss in enumerate(self.losses):
                _check_scalar(tf, loss, f"ModelSpec loss[{index}]" if len(self.losses) > 1
                              else "ModelSpec loss")
            self.scopes_per_loss()
        if mode == ModeKeys.EVAL and not self.log_info:
            raise ValueError("model_fn must return ModelSpec(log_info={name: scalar tensor}) in "
                             "EVAL mode: those are the metrics the evaluation averages")
        for name, value in self.log_info.items():
            _check_scalar(tf, value, f"ModelSpec log_info[{name!r}]")
        if mode == ModeKeys.PREDICT and not self.output_info:
            raise ValueError("model_fn must return ModelSpec(output_info={name: tensor}) in "
                             "PREDICT mode: those are the values handed to output_fn")
        for name, value in self.output_info.items():
            if not _is_tensor(value):
                raise ValueError(f"ModelSpec output_info[{name!r}] must be a tensor, got "
                                 f"{type(value).__name__}")
        if mode == ModeKeys.EXPORT and not isinstance(self.export_spec, ExportSpec):
            raise ValueError(
                "model_fn must return ModelSpec(export_spec=mox.ExportSpec(inputs_dict=..., "
                f"outputs_dict=...)) in EXPORT mode; got export_spec={self.export_spec!r}"
            )
        from mox_core.executor.hooks import AggregativeSessionRunHook

        for hook in self.hooks:
            if not isinstance(hook, AggregativeSessionRunHook):
                raise ValueError(
                    f"ModelSpec hooks must be mox.AggregativeSessionRunHook instances, got "
                    f"{type(hook).__name__}"
                )


def _is_tensor(value: Any) -> bool:
    import tensorflow as tf2  # tf2.Variable covers resource variables, tf.compat.v1's does not

    return isinstance(value, (tf2.Tensor, tf2.Variable))


def _check_scalar(tf, value: Any, what: str) -> None:
    if not _is_tensor(value):
        raise ValueError(f"{what} must be a scalar tensor, got {type(value).__name__}")
    if value.shape.rank is not None and value.shape.rank != 0:
        raise ValueError(f"{what} must be a scalar (rank 0) tensor, got shape {value.shape}; "
                         f"reduce it first, e.g. with tf.reduce_mean")
