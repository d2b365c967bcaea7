"""A session hook that times every training step: ``LOG_DIR/step_times.csv``, one
``step,seconds`` row per step, written when the run ends. ``mox step-times LOG_DIR``
(``mox_plugin_example.commands``) summarizes it.

This module imports TensorFlow: ``plugin.py`` imports it only when a run asks for its hooks.
"""

from __future__ import annotations

import time

import tensorflow as tf

from mox_plugin_example.commands import step_times_path

v1 = tf.compat.v1


class StepTimer(v1.train.SessionRunHook):
    """Records the wall time of each ``session.run`` of the training loop, numbered by the
    global step it reaches (a resumed run goes on from its checkpoint's step)."""

    def __init__(self, log_dir: str) -> None:
        self.path = step_times_path(log_dir)
        self.rows: list[tuple[int, float]] = []

    def begin(self) -> None:
        self._global_step = v1.train.get_global_step()
        self.rows = []

    def after_create_session(self, session, coord) -> None:
        self._next_step = int(session.run(self._global_step)) + 1

    def before_run(self, run_context):
        self._started = time.perf_counter()

    def after_run(self, run_context, run_values) -> None:
        self.rows.append((self._next_step, time.perf_counter() - self._started))
        self._next_step += 1

    def end(self, session) -> None:
        with tf.io.gfile.GFile(self.path, "w") as handle:
            handle.write("step,seconds\n" + "".join(f"{step},{seconds:.6f}\n"
                                                    for step, seconds in self.rows))
