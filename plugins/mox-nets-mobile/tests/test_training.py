"""The networks train through ``mox.run``: a few steps on a learnable toy task lower the loss.

Tiny images keep it quick: MobileNet v1 0.25 at 32x32 (its 1x1 final map), NASNet-A CIFAR at
16x16 (its auxiliary head needs at least 9x9), both in training mode with batch-norm updates,
dropout, drop-path and NASNet's auxiliary loss, as a user's run would have them.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import mox_core as mox


class LossRecorder(mox.AggregativeSessionRunHook):
    """Records the loss of every training step."""

    def __init__(self, loss) -> None:
        self.loss = loss
        self.values: list[float] = []

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(self.loss)

    def after_run(self, run_context, run_values):
        self.values.append(float(run_values.results))

    def support_aggregation(self) -> bool:
        return False

    def support_sync_workers(self) -> bool:
        return False

    def run_inter_mode(self) -> bool:
        return False


def toy_task(size: int, count: int = 64, seed: int = 0):
    """Noise images, half of them with a fixed pattern added: which half is the label."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 2
    pattern = rng.standard_normal((size, size, 3)).astype(np.float32)
    images = rng.standard_normal((count, size, size, 3)).astype(np.float32)
    images += labels[:, None, None, None] * pattern
    return images, labels.astype(np.int64)


def train(name, size, log_dir, steps, aux_weight=0.0, optimizer="adam", learning_rate=1e-3):
    """Train ``name`` ``steps`` steps on the toy task with ``mox.run``; the loss of each step."""
    images, labels = toy_task(size)
    recorders = []

    def input_fn(mode):
        return tf.data.Dataset.from_tensor_slices((images, labels)).repeat()

    def model_fn(inputs, mode):
        batch, targets = inputs
        logits, end_points = mox.get_model_fn(name, mode, num_classes=2, preprocess_fn=None)(batch)
        loss = tf.losses.sparse_softmax_cross_entropy(targets, logits)
        if aux_weight:
            loss += aux_weight * tf.losses.sparse_softmax_cross_entropy(
                targets, end_points["AuxLogits"]
            )
        recorders.append(LossRecorder(loss))
        return mox.ModelSpec(loss=loss, log_info={"loss": loss}, hooks=recorders[-1:])

    mox.run(
        input_fn=input_fn,
        model_fn=model_fn,
        optimizer_fn=mox.get_optimizer_fn(optimizer, learning_rate),
        run_mode=mox.ModeKeys.TRAIN,
        batch_size=16,
        log_dir=str(log_dir),
        max_number_of_steps=steps,
        log_every_n_steps=steps,
    )
    (recorder,) = recorders
    assert len(recorder.values) == steps
    return recorder.values


def assert_went_down(losses: list[float]) -> None:
    first, last = np.mean(losses[:3]), np.mean(losses[-3:])
    assert np.all(np.isfinite(losses)), losses
    assert last < 0.7 * first, losses


def test_mobilenet_v1_025_learns_a_toy_task_through_mox_run(tmp_path):
    assert_went_down(train("mobilenet_v1_025", 32, tmp_path, steps=20))


@pytest.mark.slow
def test_nasnet_cifar_learns_a_toy_task_through_mox_run(tmp_path):
    # Slim's recipe weighs the auxiliary head's loss by 0.4. Plain SGD: Adam's two slots per
    # variable would triple NASNet's 1400 variables, which TensorFlow creates slowly.
    losses = train("nasnet_cifar", 16, tmp_path, steps=8, aux_weight=0.4, optimizer="sgd",
                   learning_rate=0.01)  # fmt: skip
    assert_went_down(losses)
