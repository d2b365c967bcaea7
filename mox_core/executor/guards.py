"""Guards of a training run: checks that end a run going nowhere before it saves a bad model.

:class:`LossGuard` is the session hook every TRAIN run of ``mox.run`` carries ahead of all its
other hooks. It fetches the step's losses with the step itself (a few scalars the training step
computes anyway) and hands them to its checks in order. A check that finds the run lost raises
:class:`TrainingStopped` naming the global step. Because the guard's ``after_run`` is the first
to run, no later hook sees that step -- in particular the checkpoint saver does not save it --
and because the run ends with an error, no hook's ``end`` runs: no final checkpoint of the bad
model, no export. ``mox.run`` raises the error; ``mox train`` prints it as one ``mox: error:``
line. Only the losses count: a ``log_info`` value may be NaN on purpose (a metric of an empty
class).

A finite loss does not prove the update that follows it finite (an overflowing gradient, the
NaN gradient of ``tf.where``'s other branch), and the checkpoint saved after that step would
hold the poisoned model. :class:`FiniteVariables` closes that gap where it matters, at each
save: the chief's checkpoint saver calls it first, and it stops the run instead of saving
variables that are not finite.

A check is any object with ``observe(step, losses)`` (:class:`LossCheck`); a check that only
warns logs and returns (:class:`StuckAtChance`, which a classifier's model_fn adds with
:class:`ChanceLevelWatch`: only it knows the number of classes). :func:`default_checks` lists the checks a run gets: a new guard (a loss
stuck at chance level, a loss that explodes) is one class here and one line there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import tensorflow.compat.v1 as tf

from mox_core.executor.hooks import AggregativeSessionRunHook
from mox_core.executor.specs import ModelSpec

#: what every stop for a number that is not finite says to try
ADVICE = ("Lower the learning rate, or look for data or operations (log, division, exp) that "
          "overflow. No checkpoint of this step was written.")


class TrainingStopped(RuntimeError):
    """A guard ended a training run at global step ``step``; the message says why and what to
    try. The run wrote no checkpoint of that step or after it, and exported nothing."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step


class LossCheck(Protocol):
    """One check of :class:`LossGuard`: sees every step's losses in order."""

    def observe(self, step: int, losses: np.ndarray) -> None:
        """Look at the losses of global step ``step`` (one value per loss of the ``ModelSpec``,
        averaged over the towers); raise :class:`TrainingStopped` to end the run."""


class FiniteLoss:
    """Stops the run at the first step whose loss is NaN or infinite, naming the step and the
    last finite loss: from there on every update is NaN, so each further step is wasted and
    each further checkpoint holds a model that predicts nothing."""

    def __init__(self) -> None:
        self.last_finite: tuple[int, np.ndarray] | None = None

    def observe(self, step: int, losses: np.ndarray) -> None:
        finite = np.isfinite(losses)
        if finite.all():
            self.last_finite = (step, losses)
            return
        index = int(np.argmin(finite))
        which = "the loss" if len(losses) == 1 else f"loss {index + 1} of {len(losses)}"
        if self.last_finite is None:
            before = "it was not finite from the first step of this run"
        else:
            last_step, last = self.last_finite
            before = f"the last finite value was {float(last[index]):.6g}, at global step {last_step}"
        raise TrainingStopped(f"training stopped at global step {step}: {which} is "
                              f"{float(losses[index])} ({before}). {ADVICE}", step)


class StuckAtChance:
    """Warns once when the loss has stayed at chance level -- the cross-entropy of a uniform
    guess over ``num_classes`` classes, ln(K) -- for ``intervals`` intervals of ``every``
    steps in a row after ``start_step`` (a warm-up): the network predicts nothing, however
    long it trains. A model_fn that knows its number of classes adds it with
    :class:`ChanceLevelWatch`."""

    def __init__(self, num_classes: int, every: int, intervals: int = 5,
                 start_step: int = 0, tolerance: float = 0.02) -> None:
        if num_classes < 2:
            raise ValueError(f"StuckAtChance needs at least 2 classes, got {num_classes}")
        self.chance = float(np.log(num_classes))
        self.num_classes = num_classes
        self.every, self.intervals = max(1, every), max(1, intervals)
        self.start_step, self.tolerance = start_step, tolerance
        self.window: list[float] = []
        self.stuck = 0
        self.warned = False

    def observe(self, step: int, losses: np.ndarray) -> None:
        if self.warned or step < self.start_step:
            return
        self.window.append(float(losses[0]))
        if len(self.window) < self.every:
            return
        mean = float(np.mean(self.window))
        self.window = []
        self.stuck = self.stuck + 1 if abs(mean - self.chance) <= self.tolerance * self.chance \
            else 0
        if self.stuck >= self.intervals:
            self.warned = True
            tf.logging.warning(
                "The loss has stayed at %.3f, chance level for %d classes (ln %d = %.3f), for "
                "the last %d steps (to global step %d): the network is not learning. Lower the "
                "learning rate, try another optimizer (adam), and check that each image's label "
                "is right.", mean, self.num_classes, self.num_classes, self.chance,
                self.every * self.intervals, step)


def default_checks() -> list[LossCheck]:
    """The checks every training run gets, fresh for each run."""
    return [FiniteLoss()]


class LossGuard(tf.train.SessionRunHook):
    """Hands each step's losses to ``checks`` (default: :func:`default_checks`).

    ``step_value`` is the training step's global step (before its increment, as the log line
    shows it); a negative value is a stop token, a step that trained nothing, and is skipped.
    Build it in the training graph: it adds the op averaging the towers' losses.
    """

    def __init__(self, step_value: tf.Tensor, specs: Sequence[ModelSpec],
                 checks: Sequence[LossCheck] | None = None) -> None:
        self.checks = list(default_checks() if checks is None else checks)
        with tf.name_scope("loss_guard"):
            per_loss = zip(*(spec.losses for spec in specs))  # each loss, over the towers
            losses = tf.stack([tf.reduce_mean(tf.stack(
                [tf.reduce_mean(tf.cast(loss, tf.float32)) for loss in towers]))
                for towers in per_loss])
        self._fetches = {"step": step_value, "losses": losses}

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(self._fetches)

    def after_run(self, run_context, run_values):
        step = int(run_values.results["step"])
        if step < 0:
            return
        for check in self.checks:
            check.observe(step, run_values.results["losses"])


class FiniteVariables(tf.train.CheckpointSaverListener):
    """Refuses to checkpoint a model whose variables hold NaN or infinite values: raises
    :class:`TrainingStopped` naming the step and the variables instead of saving them."""

    def begin(self) -> None:
        self._variables = [v for v in tf.global_variables() if v.dtype.base_dtype.is_floating]
        with tf.name_scope("finite_variables_guard"):
            self._finite = tf.stack([tf.reduce_all(tf.is_finite(v)) for v in self._variables]
                                    or [tf.constant(True)])

    def before_save(self, session, global_step_value) -> None:
        finite = session.run(self._finite)
        if finite.all():
            return
        bad = [v.op.name for v, ok in zip(self._variables, finite) if not ok]
        named = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise TrainingStopped(
            f"training stopped at global step {global_step_value}: the model's variables "
            f"{named} hold NaN or infinite values (the last update overflowed although its "
            f"loss was finite, or they were restored so). {ADVICE}", int(global_step_value))


class ChanceLevelWatch(AggregativeSessionRunHook):
    """A ``ModelSpec`` hook running :class:`StuckAtChance` on ``loss`` (a classifier's
    cross-entropy, without regularization) of ``num_classes`` classes; fetched with each
    training step."""

    def __init__(self, loss: tf.Tensor, num_classes: int, every: int, intervals: int = 5,
                 start_step: int = 0) -> None:
        self.check = StuckAtChance(num_classes, every, intervals, start_step)
        self._loss = loss

    def begin(self) -> None:
        self._step = tf.train.get_global_step()

    def before_run(self, run_context):
        return tf.train.SessionRunArgs({"step": self._step, "loss": self._loss})

    def after_run(self, run_context, run_values):
        results = run_values.results
        self.check.observe(int(results["step"]), np.atleast_1d(results["loss"]))
