"""TRAIN, EVAL and PREDICT: each builds its graph and hands the session loop its steps.

``tf.estimator``'s ``_train_with_estimator_spec`` and its evaluate / predict loops, over one
shared :func:`~mox_core.executor.loop.run_loop`. A mode decides what a step fetches and what
happens to the values (:class:`TrainSteps`, :class:`EvalSteps`, :class:`PredictSteps`); how the
session is made, which hooks run where, and how bad data is named are the loop's.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np
import tensorflow.compat.v1 as tf

from mox_core.constants import ModeKeys
from mox_core.executor import checkpoints, distributed
from mox_core.executor.config import RunConfig
from mox_core.executor.export import export_from
from mox_core.executor.graph import Model, build_model, log_tensors
from mox_core.executor.guards import LossGuard
from mox_core.executor.inputs import call_with_mode
from mox_core.executor.logging_hooks import StepLogger, write_eval_summary
from mox_core.executor.loop import chief_hooks, connect, run_loop
from mox_core.executor.towers import VariableSharing
from mox_core.executor.train_op import train_op

# --------------------------------------------------------------------------- TRAIN


class TrainSteps:
    """Runs the training step; stops on the stop token (-1: the chief ended a synchronous run)
    or when the global step reaches ``last_step`` (0: never)."""

    def __init__(self, step_value: tf.Tensor, last_step: int) -> None:
        self.fetches = step_value
        self.last_step = last_step

    def after_step(self, local_step: int, step: Any) -> bool:
        return step < 0 or bool(self.last_step and step + 1 >= self.last_step)


def train(config: RunConfig):
    """Train in this process, alone or as one task of ``config.cluster`` (worker 0 is the
    chief: it initializes or restores, and writes checkpoints, summaries and the export).
    Returns the metrics of the last logged step; a NaN or infinite loss raises
    :class:`~mox_core.executor.guards.TrainingStopped` (:mod:`guards`)."""
    cluster = config.cluster
    if cluster is not None and cluster.job_name == "ps":
        distributed.serve_forever(cluster)  # a parameter server serves until killed
    log_dir = config.log_dir
    resumed = checkpoints.resume_point(log_dir) if log_dir and config.is_chief else None
    if _nothing_to_train(config, resumed):
        return {}
    connection = connect(config)
    graph = tf.Graph()
    with graph.as_default(), config.seeded(), contextlib.ExitStack() as placement:
        if cluster is not None:
            placement.enter_context(tf.device(distributed.device_function(cluster)))
        global_step = tf.train.get_or_create_global_step()
        sharing = VariableSharing()
        model = build_model(config, ModeKeys.TRAIN, sharing)
        sync = distributed.SyncReplicas(cluster, global_step) if config.sync_replicas else None
        step_value = train_op(config, model.specs, global_step, sync)
        # The guard first: a step it stops reaches no other hook, the checkpoint saver included.
        hooks: list[tf.train.SessionRunHook] = [LossGuard(step_value, model.specs),
                                                *model.hooks(inter=False)]
        if sync is not None:
            hooks.append(sync.hook())
        inter_hooks, local_init_op = _inter_mode(config, model, sharing)
        hooks += inter_hooks
        logged = log_tensors(config, model)
        logger = StepLogger(step_value, logged, config.log_every_n_steps,
                            model.inputs.batch_size, config.fetch_strategy_fn)
        hooks.append(logger)
        if config.max_steps and cluster is not None and not config.sync_replicas:
            hooks.append(distributed.LocalStepLimit(config.max_steps))  # each counts its own
        # One process, or workers in step (sync), stop when the global step reaches
        # max_number_of_steps: in sync mode each global step is one local step of every
        # worker. The steps read it from each step's own result (cheaper than
        # StopAtStepHook's extra read).
        last_step = config.max_steps if cluster is None or config.sync_replicas else 0
        scaffold = tf.train.Scaffold(saver=tf.train.Saver(max_to_keep=5, save_relative_paths=True),
                                     init_fn=_warm_start(config, resumed),
                                     local_init_op=local_init_op)
        hooks += chief_hooks(config, scaffold, logged)
        if resumed:
            tf.logging.info("Resuming training from %s", resumed)
        run_loop(config, TrainSteps(step_value, last_step), hooks, scaffold, connection)
    if config.export_model and config.is_chief:
        export_from(config, tf.train.latest_checkpoint(log_dir), model.inputs)
    return logger.last_values


def _nothing_to_train(config: RunConfig, resumed: str | None) -> bool:
    """Whether a run of one process resumes from a checkpoint that has already reached
    ``max_number_of_steps`` (then it says so, and exports that checkpoint when asked)."""
    if resumed is None or not config.max_steps or config.cluster is not None:
        return False
    step = checkpoints.checkpoint_global_step(resumed)
    if step is None or step < config.max_steps:
        return False
    tf.logging.info(
        "Nothing to train: the newest checkpoint in %s (%s) is at global step %d, which "
        "has reached max_number_of_steps=%d. Use a new log_dir or a larger "
        "max_number_of_steps to train more.", config.log_dir, os.path.basename(resumed), step,
        config.max_steps)
    if config.export_model:
        export_from(config, resumed)
    return True


def _inter_mode(config: RunConfig, model: Model, sharing: VariableSharing):
    """The hooks evaluating on ``inter_mode`` data while training (from the ``model_fn`` call
    in that mode, sharing the training variables), and the Scaffold's ``local_init_op`` that
    also initializes their input (``None``: the default)."""
    wanted = model.hooks(inter=True)
    if wanted and config.inter_mode is None:
        names = ", ".join(type(h).__name__ for h in wanted)
        raise ValueError(f"{names} evaluate on inter-mode data: pass inter_mode="
                         f"mox.ModeKeys.EVAL (and make input_fn serve that mode) to mox.run")
    if config.inter_mode is None:
        return [], None
    inter = build_model(config, config.inter_mode, sharing, reuse=True, name="inter",
                        reinitializable=True)
    hooks = inter.hooks(inter=True)
    if inter.inputs.initializer is None:
        return hooks, None
    for hook in hooks:
        hook.inter_initializers = [inter.inputs.initializer]
    # Next to the default local init (local variables, lookup tables), never instead of it: a
    # LOCAL_INIT_OP collection entry would replace Scaffold's default op.
    return hooks, tf.group(tf.train.Scaffold.default_local_init_op(), inter.inputs.initializer)


def _warm_start(config: RunConfig, resumed: str | None):
    """The Scaffold ``init_fn`` restoring ``checkpoint_path`` into a fresh model (a resumed
    run restores its own checkpoint instead), or None."""
    if resumed is not None or not config.checkpoint_path:
        return None
    source = checkpoints.resolve_checkpoint(config.checkpoint_path)
    warm = checkpoints.warm_start_saver(source, config.checkpoint_include_patterns,
                                        config.checkpoint_exclude_patterns)

    def init_fn(scaffold, session):
        warm.restore(session, source)

    return init_fn


# --------------------------------------------------------------------------- EVAL


class EvalSteps:
    """Sums each ``log_info`` value weighted by the examples of its step, logging every
    ``log_every_n_steps`` steps; :meth:`means` are the averages over every example."""

    def __init__(self, config: RunConfig, logged: dict[str, tf.Tensor], count: tf.Tensor) -> None:
        self.fetches = {"log": logged, "count": count}
        self.every_n = config.log_every_n_steps
        self.sums = {name: 0.0 for name in logged}
        self.total = 0
        self.steps = 0

    def after_step(self, local_step: int, values: Any) -> bool:
        weight = int(values["count"])
        for name, value in values["log"].items():
            self.sums[name] += float(np.mean(value)) * weight
        self.total += weight
        self.steps += 1
        if local_step % self.every_n == 0:
            tf.logging.info("%s", "\t".join(
                [f"eval step: {local_step}"] +
                [f"{k}: {float(np.mean(v)):.3f}" for k, v in values["log"].items()]))
        return False

    def means(self) -> dict[str, float]:
        if self.total == 0:
            raise ValueError("EVAL read no data: input_fn's data ran out before the first step")
        return {name: value / self.total for name, value in self.sums.items()}


def evaluate(config: RunConfig) -> dict[str, float]:
    """The mean of each ``log_info`` metric over the data (or ``max_number_of_steps`` steps),
    logged, and written beside the training curves when there is a ``log_dir``."""
    with tf.Graph().as_default(), config.seeded():
        tf.train.get_or_create_global_step()
        model = build_model(config, ModeKeys.EVAL, VariableSharing())
        first_tower_only = len(model.specs) > 1 and config.log_first_clone
        count = model.inputs.tower_batches[0] if first_tower_only else model.inputs.dynamic_batch
        steps = EvalSteps(config, log_tensors(config, model), count)
        run_loop(config, steps, model.hooks(inter=False), _restoring_scaffold(),
                 connect(config), max_local_steps=config.max_steps)
    means = steps.means()
    tf.logging.info("Evaluation of %s over %d samples (%d steps): %s", config.checkpoint_path,
                    steps.total, steps.steps, "\t".join(f"{k}: {v:.3f}" for k, v in means.items()))
    if config.log_dir:
        write_eval_summary(config.log_dir, config.checkpoint_path, means)
    return means


def _restoring_scaffold() -> tf.train.Scaffold:
    return tf.train.Scaffold(saver=tf.train.Saver())


# --------------------------------------------------------------------------- PREDICT


class PredictSteps:
    """Buffers each step's ``output_info`` (one dict per tower) and hands the buffer to
    ``output_fn`` every ``output_every_n_steps`` steps; :meth:`flush` hands over the rest (and
    calls ``output_fn`` once, with nothing, when no step ran)."""

    def __init__(self, config: RunConfig, outputs: list[dict[str, tf.Tensor]]) -> None:
        self.fetches = outputs
        self.output_fn = config.output_fn
        self.every_n = config.output_every_n_steps
        self.buffer: list[dict[str, Any]] = []
        self.calls = 0

    def after_step(self, local_step: int, values: Any) -> bool:
        self.buffer.extend(values)
        if self.every_n and (local_step + 1) % self.every_n == 0:
            call_with_mode(self.output_fn, "output_fn", self.buffer)
            self.buffer, self.calls = [], self.calls + 1
        return False

    def flush(self) -> None:
        if self.buffer or self.calls == 0:
            call_with_mode(self.output_fn, "output_fn", self.buffer)


def predict(config: RunConfig) -> None:
    """Hand ``output_fn`` the ``output_info`` of every step, ``output_every_n_steps`` at once."""
    with tf.Graph().as_default(), config.seeded():
        tf.train.get_or_create_global_step()
        model = build_model(config, ModeKeys.PREDICT, VariableSharing())
        steps = PredictSteps(config, [spec.output_info for spec in model.specs])
        run_loop(config, steps, model.hooks(inter=False), _restoring_scaffold(),
                 connect(config), max_local_steps=config.max_steps)
    steps.flush()
