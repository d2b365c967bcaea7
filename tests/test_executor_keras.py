"""Keras layers and plain tf.Variable inside model_fn: trained, shared, checkpointed, exported."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf2
import tensorflow.compat.v1 as tf

import mox_core as mox

RNG = np.random.default_rng(3)
TOKENS = RNG.integers(0, 20, size=(64, 6)).astype("int32")
LABELS = (TOKENS[:, 0] % 2).astype("int32")  # learnable from the first token


def input_fn(mode):
    return tf.data.Dataset.from_tensor_slices((TOKENS, LABELS)).repeat(1000)


def keras_model_fn(inputs, mode):
    """The field manual's Embedding / LSTM / Dense model, written with Keras layers."""
    tf.set_random_seed(7)  # the same initial weights in every run of the test
    tokens, labels = inputs
    net = tf2.keras.layers.Embedding(20, 8)(tokens)
    net = tf2.keras.layers.LSTM(8)(net)
    logits = tf2.keras.layers.Dense(2)(net)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32),
                                               labels), tf.float32))
    return mox.ModelSpec(loss=loss, log_info={"loss": loss, "accuracy": accuracy},
                         export_spec=mox.ExportSpec({"tokens": tokens}, {"logits": logits}))


@pytest.fixture
def two_towers():
    mox.set_flag("num_gpus", 2)
    yield
    mox.set_flag("num_gpus", 1)


def train(log_dir, steps=60, **kwargs):
    return mox.run(input_fn=input_fn, model_fn=keras_model_fn,
                   optimizer_fn=mox.get_optimizer_fn("adam", 0.05), run_mode=mox.ModeKeys.TRAIN,
                   batch_size=16, log_dir=str(log_dir), max_number_of_steps=steps, **kwargs)


def checkpoint_names(log_dir):
    return {name for name, _ in tf.train.list_variables(str(log_dir))}


def test_keras_layers_train_checkpoint_evaluate_and_export(tmp_path):
    train(tmp_path, export_model=mox.ExportKeys.TF_SERVING)
    names = checkpoint_names(tmp_path)
    assert {"embedding/embeddings", "dense/kernel", "dense/bias",
            "lstm/lstm_cell/kernel"} <= names
    result = mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensor_slices((TOKENS, LABELS)),
                     model_fn=keras_model_fn, run_mode=mox.ModeKeys.EVAL, batch_size=16,
                     checkpoint_path=str(tmp_path))
    # the evaluation graph restored the trained Keras weights (untrained: about 0.5)
    assert result["accuracy"] > 0.8
    assert (tmp_path / "1" / "saved_model.pb").is_file()


def test_keras_layers_are_shared_between_towers_under_the_same_names(tmp_path, two_towers):
    train(tmp_path, steps=3)
    names = checkpoint_names(tmp_path)
    assert "dense/kernel" in names
    assert not any(name.startswith("tower_") for name in names)


def test_plain_tf_variables_are_shared_between_towers(tmp_path, two_towers):
    def model_fn(inputs, mode):
        tokens, labels = inputs
        w = tf.Variable(tf.zeros([6, 2]), name="w")
        logits = tf.matmul(tf.cast(tokens, tf.float32), w)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    mox.run(input_fn=input_fn, model_fn=model_fn, optimizer_fn=mox.get_optimizer_fn("sgd", 0.1),
            run_mode=mox.ModeKeys.TRAIN, batch_size=8, log_dir=str(tmp_path),
            max_number_of_steps=2)
    assert checkpoint_names(tmp_path) == {"w", "global_step"}
