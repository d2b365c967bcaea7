"""``mox train``'s progress bar: a session hook drawing the datasets' progress bar over the
images of the steps left to train. Imports TensorFlow: ``mox train`` imports it when it runs.
"""

from __future__ import annotations

import tensorflow.compat.v1 as tf

from mox_core.datasets.progress import ProgressBar
from mox_core.executor import AggregativeSessionRunHook


class TrainingProgress(AggregativeSessionRunHook):
    """Advances a :class:`ProgressBar` by ``global_batch`` images each step, up to
    ``max_steps`` (a resumed run counts from the step it resumes at)."""

    def __init__(self, max_steps: int, global_batch: int, enabled: bool) -> None:
        self.max_steps, self.global_batch, self.enabled = max_steps, global_batch, enabled
        self.bar: ProgressBar | None = None

    def begin(self) -> None:
        self._global_step = tf.train.get_global_step()
        self.bar = None

    def after_create_session(self, session, coord) -> None:
        start = int(session.run(self._global_step))
        what = "Training" if start == 0 else f"Training (from step {start})"
        self.bar = ProgressBar(max(self.max_steps - start, 0) * self.global_batch, what,
                               enabled=self.enabled)
        self.bar.__enter__()

    def after_run(self, run_context, run_values) -> None:
        self.bar.update(self.global_batch)

    def end(self, session) -> None:
        self.close()

    def close(self) -> None:
        """End the bar's line (once): at the run's end, or when it ends with an error, which
        calls no hook's ``end``."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
