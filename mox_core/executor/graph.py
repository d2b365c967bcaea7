"""The model in the run's graph: inputs, one ``model_fn`` call per tower, what the logs show.

``build_model`` is ``tf.estimator``'s ``_call_model_fn`` for several devices: it reads the
inputs once, splits each batch between the towers and calls ``model_fn`` on every tower's
share inside that tower's device, name scope and variable sharing (and, with flag ``xla``,
XLA's compile scope), checking what each call returns. The training step built on the towers'
losses is :mod:`train_op`'s.
"""

from __future__ import annotations

import contextlib
import dataclasses

import tensorflow.compat.v1 as tf

from mox_core.executor.config import RunConfig
from mox_core.executor.hooks import AggregativeSessionRunHook
from mox_core.executor.inputs import Inputs, build_inputs, call_with_mode
from mox_core.executor.specs import ModelSpec
from mox_core.executor.towers import VARIABLE_OPS, Tower, VariableSharing, tower_context


@dataclasses.dataclass
class Model:
    """One mode's model: its inputs and the ``ModelSpec`` of each tower."""

    inputs: Inputs
    specs: list[ModelSpec]

    def hooks(self, inter: bool) -> list[AggregativeSessionRunHook]:
        """The session hooks ``model_fn`` returned that run on the inter-mode model (``inter``)
        or on this one; the first tower's, as every tower returns the same."""
        return [hook for hook in self.specs[0].hooks if bool(hook.run_inter_mode()) == inter]


def _device_function(device: str | None, parameter_device: str | None):
    if device is None:
        return None

    def place(op):
        return parameter_device if op.type in VARIABLE_OPS else device

    return place


def build_model(config: RunConfig, mode: str, sharing: VariableSharing, reuse: bool = False,
                name: str = "", reinitializable: bool = False) -> Model:
    """Call ``model_fn`` once per tower; ``sharing`` spans every call made in one graph."""
    towers = config.towers
    inputs = build_inputs(config.input_fn, mode, towers.count, config.batch_size,
                          config.auto_batch, reinitializable)
    specs = []
    for index, device in enumerate(towers.devices):
        scope = "/".join(p for p in (name, f"tower_{index}" if towers.count > 1 else "") if p)
        share = reuse or index > 0
        before = set(tf.global_variables())
        with contextlib.ExitStack() as stack:
            if scope:
                stack.enter_context(tf.name_scope(scope))
            if share:
                stack.enter_context(tf.variable_scope(tf.get_variable_scope(), reuse=True))
            function = _device_function(device, towers.parameter_device)
            if function is not None:
                stack.enter_context(tf.device(function))
            tower = Tower(index, towers.count, scope + "/" if scope else "")
            stack.enter_context(tower_context(tower))
            stack.enter_context(sharing.call(tower))
            stack.enter_context(config.precision.compiled())
            spec = call_with_mode(config.model_fn, "model_fn", list(inputs.per_tower[index]),
                                  mode)
        check_spec(spec, mode)
        created = [v.op.name for v in set(tf.global_variables()) - before]
        if share and created:
            raise ValueError(
                f"model_fn created new variables when called again for another device or for "
                f"inter_mode: {', '.join(sorted(created)[:5])}. Every call must create the same "
                f"variables under the same names (tf.get_variable in a fixed tf.variable_scope, "
                f"or layers and tf.Variable objects named the same way each call)"
            )
        specs.append(spec)
    return Model(inputs, specs)


def check_spec(spec, mode: str) -> None:
    """``TypeError`` unless ``model_fn`` returned a ModelSpec complete for ``mode``."""
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"model_fn must return a mox.ModelSpec, got "
                        f"{type(spec).__name__} (in {mode} mode)")
    spec.check(mode)


def log_tensors(config: RunConfig, model: Model) -> dict[str, tf.Tensor]:
    """The ``log_info`` values the logs, summaries and EVAL's means show: the first tower's
    (flag ``log_first_clone``) or their mean over the towers."""
    first = model.specs[0].log_info
    if len(model.specs) == 1 or config.log_first_clone:
        return dict(first)
    with tf.name_scope("log_info_mean"):
        return {name: tf.reduce_mean(tf.stack([tf.cast(s.log_info[name], tf.float32)
                                               for s in model.specs]))
                for name in first}
