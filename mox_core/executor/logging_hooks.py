"""What a run shows while and after it runs: MoXing's log line and TensorBoard summaries.

:class:`StepLogger` logs ``step: 10(global step: 10)\tsample/sec: 42.087\tloss: 3.451`` every
``log_every_n_steps`` steps; :class:`SummarySaverHook` writes the ``log_info`` scalars for
TensorBoard (the chief, with a ``log_dir``); :func:`write_eval_summary` puts EVAL's means beside
the training curves. Every tag is :func:`summary_tag` of its ``log_info`` name, so training and
evaluation points of one metric share a chart.
"""

from __future__ import annotations

import os
import time

import numpy as np
import tensorflow.compat.v1 as tf

from mox_core.executor import checkpoints


def ensure_info_logging() -> None:
    """Show mox's INFO lines unless the user chose a level for TensorFlow's logger."""
    logger = tf.get_logger()
    if logger.level == 0:
        logger.setLevel(tf.logging.INFO)


class StepLogger(tf.train.SessionRunHook):
    """Logs MoXing's line every n local steps:
    ``step: 10(global step: 10)\\tsample/sec: 42.087\\tloss: 3.451``."""

    def __init__(self, step_value, log_tensors, every_n, batch_size, fetch_strategy_fn=None):
        self._step_value = step_value
        self._log_tensors = log_tensors
        self._every_n = every_n
        self._batch_size = batch_size
        self._fixed_batch = isinstance(batch_size, int)
        self._strategy = fetch_strategy_fn
        self.last_values: dict[str, float] = {}

    def begin(self):
        self._local_step = 0
        self._samples = 0
        self._since = None

    def _wanted(self) -> bool:
        if self._strategy is not None:
            return bool(self._strategy(self._local_step))
        return self._local_step % self._every_n == 0

    def before_run(self, run_context):
        if self._since is None:
            self._since = time.perf_counter()
        fetches = {}
        if self._wanted():
            fetches = {"step": self._step_value, "log": self._log_tensors}
        if not self._fixed_batch:
            fetches["batch"] = self._batch_size
        return tf.train.SessionRunArgs(fetches) if fetches else None

    def after_run(self, run_context, run_values):
        results = run_values.results or {}
        self._samples += self._batch_size if self._fixed_batch else int(results["batch"])
        if "step" in results and results["step"] >= 0:  # -1: a stop token, no step was made
            now = time.perf_counter()
            rate = self._samples / max(now - self._since, 1e-9)
            self.last_values = {k: float(np.mean(v)) for k, v in results["log"].items()}
            tf.logging.info("%s", _format_line(self._local_step, int(results["step"]), rate,
                                                self.last_values))
            self._samples = 0
            self._since = now
        self._local_step += 1


def _format_line(step: int, global_step: int, rate: float, values: dict[str, float]) -> str:
    parts = [f"step: {step}(global step: {global_step})", f"sample/sec: {rate:.3f}"]
    parts += [f"{name}: {value:.3f}" for name, value in values.items()]
    return "\t".join(parts)


def summary_tag(name: str) -> str:
    """The TensorBoard tag of a ``log_info`` name, the same in training and in EVAL, so the eval
    run's point lands in the training curve's chart."""
    return name.replace(" ", "_")


def summary_op(log_tensors: dict[str, tf.Tensor]):
    """One ``Summary`` of every ``log_info`` scalar, tagged exactly :func:`summary_tag`.

    ``tf.summary.scalar`` would prefix its name scope and rename a tag whose op name is taken
    (``loss_1``), and then the eval metrics (tagged by name) would sit in charts of their own.
    A non-scalar value is averaged, as the log line does.
    """
    if not log_tensors:
        return None
    with tf.name_scope("mox_summaries"):
        values = [tf.reduce_mean(tf.cast(value, tf.float32)) for value in log_tensors.values()]
        return tf.raw_ops.ScalarSummary(tags=[summary_tag(name) for name in log_tensors],
                                        values=tf.stack(values))


class SummarySaverHook(tf.train.SummarySaverHook):
    """TensorFlow's ``SummarySaverHook`` (every ``save_steps`` steps from the first), which also
    writes the run's last step, so a curve ends where training ended.

    The stock hook's last point can be ``save_steps - 1`` steps before the end. This one fetches
    the summary with every step -- a few scalars, in the run that already fetches the global step
    for the stock hook, so it costs next to nothing -- keeps the newest, and at ``end`` writes it
    at the final global step unless the cadence has just written that step. Keeping the newest
    rather than evaluating again at the end is what makes it work whatever ended the run:
    ``max_number_of_steps``, a hook's ``request_stop`` (early stopping, a divergence guard), or
    the input running out (the failed step made no update and no summary; the one before it is
    the last step). The points are the same values the cadence would have written there.

    It reads the stock hook's own state (``_timer``, ``_summary_writer``, ``_global_step_tensor``,
    set by ``begin``), which tf.compat.v1 has kept unchanged since TF 1.x, rather than keeping a
    second writer or a second copy of the cadence that could disagree with it.
    """

    def begin(self):
        super().begin()
        self._newest = None

    def before_run(self, run_context):
        request = super().before_run(run_context)
        return tf.train.SessionRunArgs({**request.fetches, "summary": self._get_summary_op()})

    def after_run(self, run_context, run_values):
        super().after_run(run_context, run_values)
        self._newest = run_values.results["summary"]

    def end(self, session=None):
        if self._newest is not None and session is not None and self._summary_writer:
            final = int(session.run(self._global_step_tensor))
            if final != self._timer.last_triggered_step():
                for summary in self._newest:
                    self._summary_writer.add_summary(summary, final)
        super().end(session)


def write_eval_summary(log_dir: str, checkpoint: str, means: dict[str, float]) -> None:
    """Write the eval means to ``log_dir/eval`` at the evaluated checkpoint's global step: with
    the training tags, TensorBoard draws them as the run ``eval`` in the training charts, at the
    step where the training curve has its point for that checkpoint."""
    step = checkpoints.checkpoint_global_step(checkpoint) or 0
    summary = tf.Summary(value=[tf.Summary.Value(tag=summary_tag(k), simple_value=v)
                                for k, v in means.items()])
    with tf.Graph().as_default():  # FileWriter refuses to run eagerly
        writer = tf.summary.FileWriter(os.path.join(log_dir, "eval"))
        writer.add_summary(summary, step)
        writer.close()
