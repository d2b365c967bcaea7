"""A training job for the crash-safety test: ``python crash_train_script.py LOG_DIR MAX_STEPS``.

A small MLP trained with ``mox.run`` on in-memory data, logging every step and checkpointing
every step, so a SIGKILL can land anywhere: while the session starts, while a checkpoint is
being written, between steps. Run again with the same ``LOG_DIR`` it resumes.
"""

from __future__ import annotations

import sys

import numpy as np
import tensorflow.compat.v1 as tf

import moxing.tensorflow as mox

RNG = np.random.default_rng(0)
FEATURES = RNG.normal(size=(256, 32)).astype("float32")
LABELS = (FEATURES[:, 0] > 0).astype("int64")


def input_fn(mode):
    return tf.data.Dataset.from_tensor_slices((FEATURES, LABELS)).repeat()


def dense(inputs, units, name):
    weights = tf.get_variable(f"{name}/weights", [inputs.shape[-1], units])
    biases = tf.get_variable(f"{name}/biases", [units], initializer=tf.zeros_initializer())
    return tf.matmul(inputs, weights) + biases


def model_fn(inputs, mode):
    features, labels = inputs
    hidden = tf.nn.relu(dense(features, 512, "hidden1"))
    hidden = tf.nn.relu(dense(hidden, 512, "hidden2"))
    logits = dense(hidden, 2, "logits")
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    accuracy = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.float32))
    return mox.ModelSpec(loss=loss, log_info={"loss": loss, "accuracy": accuracy})


def main(log_dir: str, max_steps: int) -> None:
    mox.run(input_fn=input_fn, model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn("adam", learning_rate=0.001),
            run_mode=mox.ModeKeys.TRAIN, batch_size=32, log_dir=log_dir,
            max_number_of_steps=max_steps, log_every_n_steps=1, save_model_steps=1)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
