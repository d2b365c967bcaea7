"""``mox train``'s progress bar: a session hook drawing the datasets' tqdm bar over the images
of the steps left to train, with the step's loss and accuracy. Imports TensorFlow: ``mox train``
imports it when it runs.
"""

from __future__ import annotations

import numpy as np
import tensorflow.compat.v1 as tf

from mox_core.commands.model_fn import outputs
from mox_core.constants import ModeKeys
from mox_core.datasets.progress import progress_bar
from mox_core.executor import AggregativeSessionRunHook

#: the classifier's values shown after the bar (each the mean over the towers)
SHOWN = ("loss", "accuracy")


class TrainingProgress(AggregativeSessionRunHook):
    """Advances a :func:`progress_bar` by ``global_batch`` images each step, up to
    ``max_steps`` (a resumed run counts from the step it resumes at), showing the loss and
    accuracy of the step: fetched with it, no run of their own."""

    def __init__(self, max_steps: int, global_batch: int, enabled: bool) -> None:
        self.max_steps, self.global_batch, self.enabled = max_steps, global_batch, enabled
        self.bar = None

    def begin(self) -> None:
        self._global_step = tf.train.get_global_step()
        self._fetches = {name: tensors for name in SHOWN
                         if (tensors := outputs(ModeKeys.TRAIN, name))}
        self.bar = None

    def after_create_session(self, session, coord) -> None:
        start = int(session.run(self._global_step))
        what = "Training" if start == 0 else f"Training (from step {start})"
        self.bar = progress_bar(max(self.max_steps - start, 0) * self.global_batch, what,
                                enabled=self.enabled)

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(self._fetches) if self.enabled and self._fetches else None

    def after_run(self, run_context, run_values) -> None:
        if run_values.results:
            self.bar.set_postfix({name: f"{float(np.mean(values)):.3f}"
                                  for name, values in run_values.results.items()}, refresh=False)
        self.bar.update(self.global_batch)

    def end(self, session) -> None:
        self.close()

    def close(self) -> None:
        """End the bar's line (once): at the run's end, or when it ends with an error, which
        calls no hook's ``end``."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
