"""Fine-tuning from a TF-Slim checkpoint through ``mox.run``, as the field's flowers recipe does.

The pretrained checkpoint is written the way TF-Slim's are laid out: the network built for
TF-Slim's classes, every variable under its TF-Slim name (checked against the reference), plus a
``global_step``. CifarNet keeps it quick; the ImageNet networks follow the same path with more
variables. Fine-tuning on 5 classes with ``checkpoint_exclude_patterns='logits'``
restores everything but the classifier, which starts afresh in its new shape. The run saves a
checkpoint at global step 0, before any update: that is what the warm start gave.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import mox_core as mox

REFERENCE = json.loads(
    (Path(__file__).resolve().parents[3] / "reference" / "slim_nets.json").read_text()
)
NAME = "cifarnet"
SIZE = 32


@pytest.fixture
def exclude_logits():
    mox.set_flag("checkpoint_exclude_patterns", "logits")
    yield
    mox.set_flag("checkpoint_exclude_patterns", "")


def write_slim_checkpoint(folder: Path) -> str:
    """A checkpoint of ``NAME`` for the reference's classes; returns its prefix."""
    with tf.Graph().as_default():
        tf.train.create_global_step()
        network_fn = mox.get_model_fn(NAME, mox.ModeKeys.EVAL, num_classes=REFERENCE[NAME]["num_classes"],
                                      preprocess_fn=None)  # fmt: skip
        network_fn(tf.zeros([1, SIZE, SIZE, 3]))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return tf.train.Saver().save(sess, str(folder / "slim.ckpt"))


def fine_tune(checkpoint: str, log_dir: Path, num_classes: int, steps: int) -> dict:
    rng = np.random.default_rng(0)
    images = rng.standard_normal((16, SIZE, SIZE, 3)).astype(np.float32)
    labels = np.arange(16) % num_classes

    def input_fn(mode):
        return tf.data.Dataset.from_tensor_slices((images, labels)).repeat()

    def model_fn(inputs, mode):
        batch, targets = inputs
        network_fn = mox.get_model_fn(NAME, mode, num_classes=num_classes, preprocess_fn=None)
        logits, _ = network_fn(batch)
        loss = tf.losses.sparse_softmax_cross_entropy(targets, logits)
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    return mox.run(
        input_fn=input_fn,
        model_fn=model_fn,
        optimizer_fn=mox.get_optimizer_fn("sgd", 0.01),
        run_mode=mox.ModeKeys.TRAIN,
        batch_size=4,
        log_dir=str(log_dir),
        checkpoint_path=checkpoint,
        max_number_of_steps=steps,
        log_every_n_steps=1,
    )


def test_fine_tuning_restores_all_but_the_logits_which_get_the_new_classes(
    tmp_path, exclude_logits
):
    pretrained = tf.train.load_checkpoint(write_slim_checkpoint(tmp_path))
    slim_shapes = {v["name"]: v["shape"] for v in REFERENCE[NAME]["variables"]}
    assert pretrained.get_variable_to_shape_map() == {**slim_shapes, "global_step": []}

    log_dir = tmp_path / "flowers"
    last = fine_tune(str(tmp_path / "slim.ckpt"), log_dir, num_classes=5, steps=2)
    assert np.isfinite(last["loss"])

    start = tf.train.load_checkpoint(str(log_dir / "model.ckpt-0"))
    assert start.get_tensor("global_step") == 0  # fine-tuning counts its own steps
    restored = [name for name in slim_shapes if "logits" not in name]
    assert len(restored) == len(slim_shapes) - 2
    for name in restored:
        np.testing.assert_array_equal(start.get_tensor(name), pretrained.get_tensor(name), name)
    new_shapes = {"CifarNet/logits/weights": [192, 5], "CifarNet/logits/biases": [5]}
    assert {n: list(start.get_tensor(n).shape) for n in new_shapes} == new_shapes

    # Training ran from there: two updates moved the weights, logits included.
    end = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(log_dir)))
    assert end.get_tensor("global_step") == 2
    for name in ("CifarNet/conv1/weights", "CifarNet/logits/weights"):
        assert not np.array_equal(end.get_tensor(name), start.get_tensor(name)), name


def test_without_the_exclude_pattern_the_new_class_count_is_a_clear_error(tmp_path):
    checkpoint = write_slim_checkpoint(tmp_path)
    with pytest.raises(ValueError, match=r"CifarNet/logits/(weights|biases).*"
                                         r"checkpoint_exclude_patterns"):
        fine_tune(checkpoint, tmp_path / "flowers", num_classes=5, steps=1)


def test_mox_train_fine_tunes_a_slim_checkpoint_of_other_classes_without_a_flag(tmp_path, caplog):
    from mox_core import cli
    from mox_core.demo import write_shapes_dataset

    caplog.set_level("INFO", logger="tensorflow")
    checkpoint = write_slim_checkpoint(tmp_path)  # CifarNet for 10 classes
    data = write_shapes_dataset(str(tmp_path / "shapes"), images_per_class=2, size=SIZE)
    log_dir = tmp_path / "shapes-run"
    assert cli.main(["train", "--net", NAME, "--data", data, "--log-dir", str(log_dir),
                     "--checkpoint", checkpoint, "--max-steps", "2", "--quiet"]) == 0
    messages = [r.getMessage() for r in caplog.records]
    assert [m for m in messages if m.startswith("Fine-tuning from")] == [
        f"Fine-tuning from {checkpoint}: its logits are for another number of classes than "
        f"the 4 here; left out of the warm start and trained from scratch: "
        f"CifarNet/logits/biases [10], CifarNet/logits/weights [192, 10]"]
    assert any(m.startswith("Recipe for cifarnet (fine-tuning): ") for m in messages)
    pretrained = tf.train.load_checkpoint(checkpoint)
    start = tf.train.load_checkpoint(str(log_dir / "model.ckpt-0"))
    np.testing.assert_array_equal(start.get_tensor("CifarNet/conv1/weights"),
                                  pretrained.get_tensor("CifarNet/conv1/weights"))
    assert list(start.get_tensor("CifarNet/logits/weights").shape) == [192, 4]
