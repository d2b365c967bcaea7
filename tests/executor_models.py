"""Small models and data for the executor tests: a linear regression the tests can check."""

from __future__ import annotations

import numpy as np
import tensorflow.compat.v1 as tf

import mox_core as mox

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 4)).astype("float32")
TRUE_W = np.array([[1.0], [2.0], [-1.0], [0.5]], "float32")
Y = X @ TRUE_W


def dataset_input_fn(epochs=1):
    """input_fn(mode) returning single examples as a tf.data.Dataset (auto_batch batches it)."""

    def input_fn(mode):
        return tf.data.Dataset.from_tensor_slices((X, Y)).repeat(epochs)

    return input_fn


def linear_model_fn(inputs, mode):
    x, y = inputs
    w = tf.get_variable("w", [4, 1], initializer=tf.zeros_initializer())
    prediction = tf.matmul(x, w)
    loss = tf.reduce_mean(tf.square(prediction - y))
    return mox.ModelSpec(
        loss=loss,
        log_info={"loss": loss},
        output_info={"prediction": prediction},
        export_spec=mox.ExportSpec({"x": x}, {"prediction": prediction}),
    )


def sgd(learning_rate=0.1):
    return mox.get_optimizer_fn("sgd", learning_rate)


def read_variable(checkpoint_dir, name="w"):
    return tf.train.load_checkpoint(tf.train.latest_checkpoint(checkpoint_dir)).get_tensor(name)
