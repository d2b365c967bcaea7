"""Session hooks of the MoXing API.

Every hook a ``ModelSpec`` carries is an :class:`AggregativeSessionRunHook`: a
``tf.compat.v1.train.SessionRunHook`` that also says whether it can aggregate over devices,
synchronise workers, and whether it runs on the ``inter_mode`` model (e.g. evaluating on
validation data while training). The evaluation hooks (``LogEvaluationMetricHook``,
``EarlyStoppingHook``, ``PlateauLREarlyStoppingHook``) are inter-mode hooks: ``mox.run`` takes
the instances that ``model_fn`` returns when called in ``inter_mode``, whose ``monitor_info``
tensors read the inter-mode data, and runs them every ``evaluate_every_n_epochs`` epochs of
training.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf2
import tensorflow.compat.v1 as tf


class AggregativeSessionRunHook(tf.train.SessionRunHook):
    """Base of every hook given to ``ModelSpec(hooks=[...])``: a ``SessionRunHook`` that also
    says what it supports. Each answer defaults to False; override the one that differs (an
    evaluation hook's ``run_inter_mode`` is True)."""

    def support_aggregation(self) -> bool:
        """Whether the hook's values may be averaged over devices."""
        return False

    def support_sync_workers(self) -> bool:
        """Whether the hook needs all workers in step (distributed training)."""
        return False

    def run_inter_mode(self) -> bool:
        """Whether the hook runs on the ``inter_mode`` model rather than the main one."""
        return False


class FeedSessionRunHook(AggregativeSessionRunHook):
    """Feeds ``feed_dict`` (placeholder -> value) to every step of the session."""

    def __init__(self, feed_dict: Mapping[Any, Any]) -> None:
        self.feed_dict = dict(feed_dict)

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(fetches=None, feed_dict=self.feed_dict)


class _InterModeEvaluationHook(AggregativeSessionRunHook):
    """Every ``evaluate_every_n_epochs`` epochs of training, average ``monitor_info`` over
    ``samples_in_eval`` inter-mode samples and hand the result to ``on_evaluation``.

    An epoch is ``ceil(samples_in_train / batch_size)`` local training steps; an evaluation is
    ``ceil(samples_in_eval / batch_size)`` runs of the monitor tensors.
    """

    def __init__(self, monitor_info, batch_size, samples_in_train, samples_in_eval,
                 evaluate_every_n_epochs=1, prefix="") -> None:
        kind = type(self).__name__
        if not isinstance(monitor_info, Mapping) or not monitor_info:
            raise ValueError(f"{kind} monitor_info must be a non-empty dict of name -> scalar "
                             f"tensor, got {monitor_info!r}")
        for name, value in (("batch_size", batch_size), ("samples_in_train", samples_in_train),
                            ("samples_in_eval", samples_in_eval),
                            ("evaluate_every_n_epochs", evaluate_every_n_epochs)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{kind} {name} must be a positive number, got {value!r}")
        self.monitor_info = dict(monitor_info)
        self.batch_size = batch_size
        self.samples_in_train = samples_in_train
        self.samples_in_eval = samples_in_eval
        self.evaluate_every_n_epochs = evaluate_every_n_epochs
        self.prefix = prefix
        self.steps_per_evaluation = max(
            1, int(round(math.ceil(samples_in_train / batch_size) * evaluate_every_n_epochs))
        )
        self.eval_steps = max(1, math.ceil(samples_in_eval / batch_size))
        self.history: list[dict[str, float]] = []
        #: ops the executor runs before each evaluation (re-initialising the inter-mode input)
        self.inter_initializers: list = []
        self._local_step = 0

    def support_aggregation(self) -> bool:
        return True

    def run_inter_mode(self) -> bool:
        return True

    def after_run(self, run_context, run_values):
        step = self._local_step
        self._local_step += 1
        if self._local_step % self.steps_per_evaluation:
            return
        session = run_context.session
        if self.inter_initializers:
            session.run(self.inter_initializers)
        sums = {name: 0.0 for name in self.monitor_info}
        runs = 0
        for _ in range(self.eval_steps):
            try:
                values = session.run(self.monitor_info)
            except tf.errors.OutOfRangeError:
                break
            for name, value in values.items():
                sums[name] += float(np.mean(value))
            runs += 1
        if runs == 0:
            tf.logging.warning("%s step: %d: the inter-mode input gave no data to evaluate on",
                               self.prefix, step)
            return
        means = {name: total / runs for name, total in sums.items()}
        self.history.append(means)
        tf.logging.info("%s step: %d %s", self.prefix, step,
                        " ".join(f"{name}: {value:.3f}" for name, value in means.items()))
        self.on_evaluation(step, means, run_context)

    def on_evaluation(self, step: int, values: dict[str, float], run_context) -> None:
        """Called after each evaluation with the averaged monitor values."""


class LogEvaluationMetricHook(_InterModeEvaluationHook):
    """Logs ``<prefix> step: N name: value ...`` for the inter-mode data every n epochs."""


class _MonitorMixin:
    """Tracks the best value of ``monitor`` and the evaluations since it improved."""

    def _init_monitor(self, monitor, min_delta, patience, mode) -> None:
        kind = type(self).__name__
        if monitor not in self.monitor_info:
            raise ValueError(f"{kind} monitor {monitor!r} is not in monitor_info "
                             f"({', '.join(self.monitor_info)})")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"{kind} patience must be an int >= 0, got {patience!r}")
        if mode == "auto":
            mode = "min" if "loss" in monitor or "error" in monitor else "max"
        if mode not in ("min", "max"):
            raise ValueError(f"{kind} mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = max(1, patience)  # 0 and 1 both act on the first stalled evaluation
        self.mode = mode
        self.best: float | None = None
        self.wait = 0

    def _improved(self, value: float) -> bool:
        """Update the best value; True when ``value`` improved on it by more than min_delta."""
        if self.best is None:
            self.best = value
            return True
        better = (value > self.best + self.min_delta if self.mode == "max"
                  else value < self.best - self.min_delta)
        if better:
            self.best = value
            self.wait = 0
            return True
        self.wait += 1
        return False


class EarlyStoppingHook(_MonitorMixin, _InterModeEvaluationHook):
    """Stops training when ``monitor`` has not improved by ``min_delta`` for ``patience``
    evaluations in a row (so at least ``patience + 1`` evaluations run). ``mode='auto'``
    maximises a monitor unless its name says loss or error."""

    def __init__(self, monitor_info, monitor, batch_size, samples_in_train, samples_in_eval,
                 evaluate_every_n_epochs=1, min_delta=0.0, patience=3, prefix="[EarlyStopping]",
                 mode="auto") -> None:
        super().__init__(monitor_info, batch_size, samples_in_train, samples_in_eval,
                         evaluate_every_n_epochs, prefix)
        self._init_monitor(monitor, min_delta, patience, mode)
        self.stopped_at: int | None = None

    def on_evaluation(self, step, values, run_context) -> None:
        if not self._improved(values[self.monitor]) and self.wait >= self.patience:
            tf.logging.info("%s %s did not improve by more than %g for %d evaluations; "
                            "stopping at step %d", self.prefix, self.monitor, self.min_delta,
                            self.wait, step)
            self.stopped_at = step
            run_context.request_stop()


class PlateauLREarlyStoppingHook(_MonitorMixin, _InterModeEvaluationHook):
    """On a plateau of ``monitor`` (no improvement for ``patience`` evaluations) multiplies the
    ``learning_rate`` variable by ``lr_decay_factor``; after ``max_lr_decays`` such drops, the
    next plateau stops training.

    ``learning_rate`` must be a non-trainable ``tf.Variable`` that ``optimizer_fn`` uses.
    """

    def __init__(self, monitor_info, monitor, learning_rate, batch_size, samples_in_train,
                 samples_in_eval, evaluate_every_n_epochs=1, min_delta=0.0, patience=3,
                 lr_decay_factor=0.1, max_lr_decays=2, prefix="[PlateauLR]", mode="auto") -> None:
        super().__init__(monitor_info, batch_size, samples_in_train, samples_in_eval,
                         evaluate_every_n_epochs, prefix)
        self._init_monitor(monitor, min_delta, patience, mode)
        if not isinstance(learning_rate, tf2.Variable):  # compat.v1's class misses resource ones
            raise ValueError("PlateauLREarlyStoppingHook learning_rate must be a tf.Variable "
                             "(e.g. tf.get_variable('lr', initializer=0.1, trainable=False)) "
                             f"that optimizer_fn uses, got {type(learning_rate).__name__}")
        if not 0.0 < lr_decay_factor < 1.0:
            raise ValueError(f"PlateauLREarlyStoppingHook lr_decay_factor must be in (0, 1), "
                             f"got {lr_decay_factor!r}")
        self.learning_rate = learning_rate
        self.lr_decay_factor = lr_decay_factor
        self.max_lr_decays = max_lr_decays
        self.lr_decays = 0
        self._decay_op = None

    def begin(self) -> None:
        self._decay_op = self.learning_rate.assign(self.learning_rate * self.lr_decay_factor)

    def on_evaluation(self, step, values, run_context) -> None:
        if self._improved(values[self.monitor]) or self.wait < self.patience:
            return
        if self.lr_decays >= self.max_lr_decays:
            tf.logging.info("%s %s still on a plateau after %d learning-rate drops; stopping at "
                            "step %d", self.prefix, self.monitor, self.lr_decays, step)
            run_context.request_stop()
            return
        new_lr = run_context.session.run(self._decay_op)
        self.lr_decays += 1
        self.wait = 0
        tf.logging.info("%s %s on a plateau; learning rate now %g", self.prefix, self.monitor,
                        new_lr)



class BestModelHook(_MonitorMixin, _InterModeEvaluationHook):
    """Validation while training: every ``evaluate_every_n_epochs`` epochs, evaluates on the
    inter-mode data, writes the values to TensorBoard (``summary_dir``), and saves the model
    whenever ``monitor`` improves into ``best_dir`` (one checkpoint, the best so far, with a
    ``best.json`` naming its global step and values); with ``patience``, stops training after
    that many evaluations without improvement (``EarlyStoppingHook``'s rule).

    Each evaluation reads the inter-mode input to its end (``mox.run`` restarts it every
    time), so its dataset must end: one epoch. ``monitor_info`` may hold a ``"count"`` tensor,
    the examples of each batch: the other values are weighted by it, so a short last batch
    counts for what it holds (``count`` itself is not reported). Evaluations are named by the
    global step of the model they measured.
    """

    def __init__(self, monitor_info, monitor, batch_size, samples_in_train, samples_in_eval,
                 best_dir, summary_dir=None, evaluate_every_n_epochs=1, min_delta=0.0,
                 patience=None, prefix="[Validation]", mode="auto") -> None:
        super().__init__(monitor_info, batch_size, samples_in_train, samples_in_eval,
                         evaluate_every_n_epochs, prefix)
        self._init_monitor(monitor, min_delta, 1 if patience is None else patience, mode)
        self.early_stop = patience is not None
        self.best_dir = best_dir
        self.summary_dir = summary_dir
        self.best_step: int | None = None
        self.stopped_at: int | None = None

    def begin(self) -> None:
        self._global_step = tf.train.get_global_step()
        self._saver = tf.train.Saver(max_to_keep=1, name="best_model_saver")
        self._writer = (tf.summary.FileWriterCache.get(self.summary_dir)
                        if self.summary_dir else None)

    def after_run(self, run_context, run_values):
        self._local_step += 1
        if self._local_step % self.steps_per_evaluation:
            return
        session = run_context.session
        step = int(session.run(self._global_step))
        values = self._evaluate(session)
        if values is None:
            tf.logging.warning("%s step: %d: the validation data gave nothing to evaluate on",
                               self.prefix, step)
            return
        self.history.append(values)
        if self._writer is not None:
            self._writer.add_summary(tf.Summary(value=[
                tf.Summary.Value(tag=name, simple_value=value) for name, value in values.items()
            ]), step)
            self._writer.flush()
        improved = self._improved(values[self.monitor])
        tf.logging.info("%s step: %d %s%s", self.prefix, step,
                        " ".join(f"{name}: {value:.3f}" for name, value in values.items()),
                        " (best so far)" if improved else "")
        if improved:
            self._save_best(session, step, values)
        elif self.early_stop and self.wait >= self.patience:
            tf.logging.info("%s %s did not improve for %d evaluations; stopping at step %d "
                            "(the best model, of step %d, is in %s)", self.prefix, self.monitor,
                            self.wait, step, self.best_step, self.best_dir)
            self.stopped_at = step
            run_context.request_stop()

    def end(self, session) -> None:
        if self._writer is not None:
            self._writer.flush()

    def _evaluate(self, session) -> dict[str, float] | None:
        if self.inter_initializers:
            session.run(self.inter_initializers)
        sums = {name: 0.0 for name in self.monitor_info if name != "count"}
        total = 0.0
        while True:
            try:
                values = session.run(self.monitor_info)
            except tf.errors.OutOfRangeError:
                break
            weight = float(np.sum(values.pop("count"))) if "count" in values else 1.0
            total += weight
            for name, value in values.items():
                sums[name] += float(np.mean(value)) * weight
        if not total:
            return None
        return {name: value / total for name, value in sums.items()}

    def _save_best(self, session, step: int, values: dict[str, float]) -> None:
        import json

        from mox_core.file.atomic import write_atomically

        prefix = self._saver.save(session, f"{self.best_dir.rstrip('/')}/model.ckpt",
                                  global_step=step, latest_filename="checkpoint")
        write_atomically(f"{self.best_dir.rstrip('/')}/best.json", json.dumps(
            {"global_step": step, "monitor": self.monitor, **values}, indent=2) + "\n")
        self.best_step = step
        tf.logging.info("%s saved the best model so far to %s", self.prefix, prefix)
