"""Networks trained through ``mox.run``, as a user trains them: one step that must leave a
checkpoint (and an export), or a few steps on a toy task that must lower the loss."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from mox_core.constants import ModeKeys
from mox_core.testing._common import describe_network, run_folder, tf
from mox_core.testing.graphs import random_images


@contextlib.contextmanager
def _guard_as_assertion(what: str) -> Iterator[None]:
    """A run a training guard stopped (a NaN loss, non-finite weights) is the network's failure:
    an ``AssertionError`` naming it, like every other check of the kit."""
    from mox_core.executor.guards import TrainingStopped  # loads TensorFlow

    try:
        yield
    except TrainingStopped as exc:
        raise AssertionError(f"{what}: training through mox.run stopped: {exc}") from exc


def train_one_step(what: str, name: str, log_dir: str, num_classes: int, size: int,
                   batch_size: int, export: bool, optimizer: str, learning_rate: float,
                   model_kwargs: Mapping[str, Any]) -> float:
    """One ``mox.run`` TRAIN step of network ``name`` on random images into ``log_dir``
    (exporting a SavedModel, version 1, with ``export``); returns the step's loss.

    Fails unless the loss is finite and ``log_dir`` holds a checkpoint at global step 1.
    """
    import mox_core as mox

    tf1 = tf().compat.v1
    images = random_images(batch_size, size)
    labels = (np.arange(batch_size) % num_classes).astype(np.int64)

    def input_fn(mode):
        return tf1.data.Dataset.from_tensor_slices((images, labels)).repeat()

    def model_fn(inputs, mode):
        batch, targets = inputs
        sized = {"image_height": size, "image_width": size} if mode == ModeKeys.EXPORT else {}
        network_fn = mox.get_model_fn(name, mode, num_classes, preprocess_fn=None, **sized,
                                      **model_kwargs)
        logits, _ = network_fn(tf().cast(batch, tf().float32))
        if mode == ModeKeys.EXPORT:
            outputs = {"logits": logits, "probabilities": tf().nn.softmax(logits)}
            return mox.ModelSpec(export_spec=mox.ExportSpec({"images": batch}, outputs,
                                                             version=1))
        loss = tf1.losses.sparse_softmax_cross_entropy(targets, logits)
        regularization = tf1.losses.get_regularization_losses()
        if regularization:
            loss += tf().add_n(regularization)
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    with _guard_as_assertion(what):
        metrics = mox.run(
            input_fn=input_fn, model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn(optimizer, learning_rate),
            run_mode=ModeKeys.TRAIN, batch_size=batch_size, log_dir=log_dir,
            max_number_of_steps=1, log_every_n_steps=1,
            export_model=mox.ExportKeys.TF_SERVING if export else False,
        )
    loss = (metrics or {}).get("loss")
    if loss is None or not math.isfinite(float(loss)):
        raise AssertionError(f"{what}: one training step through mox.run gave loss {loss!r}, "
                             f"expected a finite number")
    checkpoint = tf1.train.latest_checkpoint(log_dir)
    if checkpoint is None:
        raise AssertionError(f"{what}: training through mox.run wrote no checkpoint in {log_dir}")
    step = tf1.train.load_variable(checkpoint, "global_step")
    if int(step) != 1:
        raise AssertionError(f"{what}: after one training step the checkpoint's global step "
                             f"is {step}, expected 1")
    return float(loss)


def toy_task(size: int, count: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A learnable two-class task: ``count`` standard normal ``size`` x ``size`` RGB images, the
    odd ones with one fixed random pattern added; returns ``(images, labels)``."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 2
    pattern = rng.standard_normal((size, size, 3)).astype(np.float32)
    images = rng.standard_normal((count, size, size, 3)).astype(np.float32)
    images += labels[:, None, None, None] * pattern
    return images, labels.astype(np.int64)


def band_images(count: int, num_classes: int, size: int = 28, channels: int = 1,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A learnable ``num_classes``-class task: uint8 images ``[count, size, size, channels]`` of
    dim noise whose class is the horizontal band that is bright; returns ``(images, labels)``."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, count)
    images = rng.integers(0, 64, (count, size, size, channels)).astype(np.uint8)
    band = size // num_classes
    for image, label in zip(images, labels):
        image[label * band:(label + 1) * band] = 255
    return images, labels.astype(np.int64)


def _loss_recorder(loss: Any) -> Any:
    """A session hook that keeps the value of ``loss`` at every training step in ``values``."""
    import mox_core as mox

    tf1 = tf().compat.v1

    class LossRecorder(mox.AggregativeSessionRunHook):
        def __init__(self) -> None:
            self.values: list[float] = []

        def before_run(self, run_context: Any) -> Any:
            return tf1.train.SessionRunArgs(loss)

        def after_run(self, run_context: Any, run_values: Any) -> None:
            self.values.append(float(run_values.results))

    return LossRecorder()


def check_learns(name: str, *, image_size: int, steps: int, optimizer: str = "adam",
                 learning_rate: float = 1e-3, optimizer_kwargs: Mapping[str, Any] | None = None,
                 batch_size: int = 8, examples: int = 32, aux_logits_weight: float = 0.0,
                 factor: float = 0.7, tmp_dir: str | os.PathLike | None = None,
                 **model_kwargs: Any) -> list[float]:
    """Train ``name`` ``steps`` steps through ``mox.run`` on :func:`toy_task` in training mode
    (batch-norm updates, dropout) and check the loss went down: the mean of the last three
    steps' losses must be below ``factor`` times the mean of the first three. Returns every
    step's loss. ``aux_logits_weight`` adds the ``AuxLogits`` end point's loss, as the
    Inception and NASNet recipes do; ``model_kwargs`` go to ``mox.get_model_fn``."""
    import mox_core as mox

    if steps < 6:
        raise ValueError(f"check_learns needs at least 6 steps to compare first and last, "
                         f"got {steps}")
    tf1 = tf().compat.v1
    what = describe_network(name)
    images, labels = toy_task(image_size, examples)
    recorders: list[Any] = []

    def input_fn(mode):
        return tf1.data.Dataset.from_tensor_slices((images, labels)).repeat()

    def model_fn(inputs, mode):
        batch, targets = inputs
        network_fn = mox.get_model_fn(name, mode, 2, preprocess_fn=None, **model_kwargs)
        logits, end_points = network_fn(batch)
        loss = tf1.losses.sparse_softmax_cross_entropy(targets, logits)
        if aux_logits_weight:
            loss += aux_logits_weight * tf1.losses.sparse_softmax_cross_entropy(
                targets, end_points["AuxLogits"])
        recorders.append(_loss_recorder(loss))
        return mox.ModelSpec(loss=loss, log_info={"loss": loss}, hooks=recorders[-1:])

    with run_folder(tmp_dir, name) as log_dir, _guard_as_assertion(what):
        mox.run(input_fn=input_fn, model_fn=model_fn,
                optimizer_fn=mox.get_optimizer_fn(optimizer, learning_rate,
                                                  **dict(optimizer_kwargs or {})),
                run_mode=ModeKeys.TRAIN, batch_size=batch_size, log_dir=log_dir,
                max_number_of_steps=steps, log_every_n_steps=steps)
    losses = recorders[-1].values
    if len(losses) != steps or not all(math.isfinite(value) for value in losses):
        raise AssertionError(f"{what}: expected {steps} finite training losses through mox.run, "
                             f"got {losses}")
    first, last = float(np.mean(losses[:3])), float(np.mean(losses[-3:]))
    if not last < factor * first:
        raise AssertionError(f"{what}: the loss did not go down on a learnable toy task in "
                             f"{steps} steps ({optimizer}, learning rate {learning_rate}): mean "
                             f"of the first 3 steps {first:.4f}, of the last 3 {last:.4f}, "
                             f"expected below {factor} x the first; losses {losses}")
    return losses
