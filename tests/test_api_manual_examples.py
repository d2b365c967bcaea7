"""The examples of MoXing's API manual (``moxing-tensorflow-api.zh.md``) that need no network
run as tests: its ModelSpec, get_collection and var_scope sections.

Every example is the manual's code ported only by ``import tensorflow.compat.v1 as tf`` and
``tf.one_hot`` in place of ``slim.one_hot_encoding``, run on small generated data (images of a
few classes told apart by a bright band), a few steps, ``log_dir`` in ``tmp_path``. Where the
manual elides code (``...``) or names something it never defines (``log_info``), the smallest
stand-in fills the gap. The examples of sections 1 to 3 are in the sibling files
``test_api_manual_flags.py``, ``test_api_manual_datasets.py`` and
``test_api_manual_optimizers.py``; those that build a network run with mox-nets-classic, in its
``tests/test_api_manual_*.py``.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import moxing.tensorflow as mox
from mox_core.testing import STEP_LINE, band_images, logged_values, step_lines

# --------------------------------------------------------------------------- generated data


def flat_mnist_like(count, seed=0):
    """What ``input_data.read_data_sets(..., one_hot=True)`` gives: 784 floats, one-hot."""
    images, labels = band_images(count, 10, seed=seed)
    return (images.reshape(count, 784) / 255.0).astype(np.float32), np.eye(10)[labels].astype(
        np.float32)


def checkpoint(log_dir):
    return tf.train.load_checkpoint(tf.train.latest_checkpoint(str(log_dir)))


@pytest.fixture
def flags():
    saved = {name: mox.get_flag(name) for name in ("num_gpus",)}
    yield mox.set_flag
    for name, value in saved.items():
        mox.set_flag(name, value)


# --------------------------------------------------------------------------- ModelSpec


def softmax_model_fn(inputs, run_mode, **kwargs):
    """ModelSpec example 1, as the manual writes it."""
    x, y_ = inputs
    W = tf.get_variable(name='W', initializer=tf.zeros([784, 10]))
    b = tf.get_variable(name='b', initializer=tf.zeros([10]))
    y = tf.matmul(x, W) + b
    cross_entropy = tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y))
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    return mox.ModelSpec(loss=cross_entropy, log_info={'loss': cross_entropy, 'accuracy': accuracy})


def mnist_like_input_fn(run_mode, **kwargs):
    return tf.data.Dataset.from_tensor_slices(flat_mnist_like(256)).repeat()


def train_softmax(log_dir, steps, **kwargs):
    return mox.run(input_fn=mnist_like_input_fn, model_fn=softmax_model_fn,
                   optimizer_fn=mox.get_optimizer_fn('sgd', learning_rate=0.5),
                   run_mode=mox.ModeKeys.TRAIN, batch_size=32, log_dir=str(log_dir),
                   max_number_of_steps=steps, **kwargs)


@pytest.fixture(scope="module")
def softmax_checkpoint(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("softmax")
    train_softmax(log_dir, steps=20)
    return log_dir


def test_modelspec_example_1_trains_and_logs_loss_and_accuracy(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        result = train_softmax(tmp_path, steps=30, log_every_n_steps=10)
    lines = step_lines(caplog.records)
    assert [STEP_LINE.match(line).group(1, 2) for line in lines] == [
        ("0", "0"), ("10", "10"), ("20", "20")]
    assert list(logged_values(lines[0])) == ["loss", "accuracy"]
    assert logged_values(lines[-1])["accuracy"] > logged_values(lines[0])["accuracy"]
    assert result["accuracy"] >= 0.9  # the bands are easy to tell apart
    assert checkpoint(tmp_path).get_tensor("W").shape == (784, 10)
    assert checkpoint(tmp_path).get_tensor("global_step") == 30


def placeholder_model_fn(inputs, run_mode, **kwargs):
    """ModelSpec example 2, as the manual writes it."""
    del inputs
    x = tf.placeholder(dtype=tf.float32, shape=())

    class FeedRunHook(mox.AggregativeSessionRunHook):
        def before_run(self, run_context):
            feed_x = 1.0
            return tf.train.SessionRunArgs(fetches=None, feed_dict={x: feed_x})

        def support_aggregation(self):
            return False

        def support_sync_workers(self):
            return False

        def run_inter_mode(self):
            return False

    return mox.ModelSpec(log_info={'x': x}, hooks=[FeedRunHook()])


def test_modelspec_example_2_feeds_a_placeholder_through_a_hook(softmax_checkpoint, caplog):
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        result = mox.run(input_fn=mnist_like_input_fn, model_fn=placeholder_model_fn,
                         run_mode=mox.ModeKeys.EVAL, batch_size=8,
                         checkpoint_path=str(softmax_checkpoint), max_number_of_steps=3)
    assert result == {'x': 1.0}
    assert "eval step: 0\tx: 1.000" in [r.getMessage() for r in caplog.records]


def test_modelspec_example_2_needs_no_input_data(softmax_checkpoint):
    # the model ignores its inputs, so input_fn may return no tensor at all
    result = mox.run(input_fn=lambda mode: (), model_fn=placeholder_model_fn,
                     run_mode=mox.ModeKeys.EVAL, batch_size=8,
                     checkpoint_path=str(softmax_checkpoint), max_number_of_steps=3)
    assert result == {'x': 1.0}


NOISE = np.random.default_rng(1).normal(size=(128, 2)).astype(np.float32)
REAL = (np.random.default_rng(2).normal(size=(128, 2)) * 0.5 + 3.0).astype(np.float32)


def gan_model_fn(inputs, mode, **kwargs):
    """ModelSpec example 3, its ``...`` filled with a one-layer generator and discriminator."""
    noise, real = inputs

    def generator(x, is_training, reuse):
        with tf.variable_scope('generator', reuse=reuse):
            w = tf.get_variable('w', [2, 2], initializer=tf.initializers.identity())
            b = tf.get_variable('b', [2], initializer=tf.zeros_initializer())
            return tf.matmul(x, w) + b

    def discriminator(x, is_training, reuse):
        with tf.variable_scope('discriminator', reuse=reuse):
            w = tf.get_variable('w', [2, 1], initializer=tf.constant_initializer(0.1))
            b = tf.get_variable('b', [1], initializer=tf.zeros_initializer())
            return tf.matmul(x, w) + b

    is_training = mode == mox.ModeKeys.TRAIN
    fake = generator(noise, is_training, reuse=False)
    real_logits = discriminator(real, is_training, reuse=False)
    fake_logits = discriminator(fake, is_training, reuse=True)
    xent = tf.nn.sigmoid_cross_entropy_with_logits
    D_loss = tf.reduce_mean(xent(labels=tf.ones_like(real_logits), logits=real_logits)
                            + xent(labels=tf.zeros_like(fake_logits), logits=fake_logits))
    G_loss = tf.reduce_mean(xent(labels=tf.ones_like(fake_logits), logits=fake_logits))

    return mox.ModelSpec(loss=[D_loss, G_loss],
                         var_scopes=[['discriminator'], ['generator']],
                         log_info={'D_loss': D_loss, 'G_loss': G_loss})


def train_gan(log_dir, optimizer_fn):
    mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensor_slices((NOISE, REAL)).repeat(),
            model_fn=gan_model_fn, optimizer_fn=optimizer_fn, run_mode=mox.ModeKeys.TRAIN,
            batch_size=16, log_dir=str(log_dir), max_number_of_steps=5)
    reader = checkpoint(log_dir)
    return {name: reader.get_tensor(name) for name in
            ("generator/w", "generator/b", "discriminator/w", "discriminator/b", "global_step")}


def test_modelspec_example_3_each_loss_updates_only_its_variable_scopes(tmp_path, caplog):
    initial = {"generator/w": np.eye(2, dtype=np.float32), "generator/b": np.zeros(2, np.float32),
               "discriminator/w": np.full((2, 1), 0.1, np.float32),
               "discriminator/b": np.zeros(1, np.float32)}
    sgd, frozen = mox.get_optimizer_fn('sgd', 0.1), mox.get_optimizer_fn('sgd', 0.0)
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        both = train_gan(tmp_path / "both", sgd)
    assert list(logged_values(step_lines(caplog.records)[0])) == ['D_loss', 'G_loss']
    assert both["global_step"] == 5  # both losses step once per step, on the same input
    assert all(not np.allclose(both[name], value) for name, value in initial.items())

    d_only = train_gan(tmp_path / "d_only", [sgd, frozen])  # G_loss's optimizer does nothing
    np.testing.assert_array_equal(d_only["generator/w"], initial["generator/w"])
    np.testing.assert_array_equal(d_only["generator/b"], initial["generator/b"])
    assert not np.allclose(d_only["discriminator/w"], initial["discriminator/w"])

    g_only = train_gan(tmp_path / "g_only", [frozen, sgd])  # D_loss's optimizer does nothing
    np.testing.assert_array_equal(g_only["discriminator/w"], initial["discriminator/w"])
    assert not np.allclose(g_only["generator/w"], initial["generator/w"])


def predictions_model_fn(inputs, mode, **kwargs):
    """ModelSpec example 4's model_fn, its ``...`` being example 1's model."""
    x = inputs[0]
    W = tf.get_variable(name='W', initializer=tf.zeros([784, 10]))
    b = tf.get_variable(name='b', initializer=tf.zeros([10]))
    predictions = tf.argmax(tf.matmul(x, W) + b, 1)
    return mox.ModelSpec(output_dict={'predictions': predictions})


def expected_predictions(log_dir, images):
    reader = checkpoint(log_dir)
    return np.argmax(images @ reader.get_tensor("W") + reader.get_tensor("b"), axis=1)


def test_modelspec_example_4_output_fn_gets_output_every_n_steps_dicts(softmax_checkpoint,
                                                                       capsys):
    images = flat_mnist_like(320, seed=3)[0]
    received = []

    def output_fn(outputs, **kwargs):
        received.append(outputs)
        print(outputs)

    mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensor_slices(images),
            model_fn=predictions_model_fn,
            output_fn=output_fn,
            output_every_n_steps=10,
            run_mode=mox.ModeKeys.PREDICT, batch_size=16,
            checkpoint_path=str(softmax_checkpoint))
    # 320 images in batches of 16: 20 steps, so two calls of 10 steps each
    assert [len(outputs) for outputs in received] == [10, 10]
    assert all(set(step) == {'predictions'} for outputs in received for step in outputs)
    assert all(isinstance(step['predictions'], np.ndarray) for step in received[0])
    got = np.concatenate([step['predictions'] for outputs in received for step in outputs])
    np.testing.assert_array_equal(got, expected_predictions(softmax_checkpoint, images))
    assert capsys.readouterr().out.startswith("[{'predictions': array([")


def test_modelspec_example_4_with_two_devices_lists_each_step_per_device(softmax_checkpoint,
                                                                         flags):
    images = flat_mnist_like(320, seed=4)[0]
    received = []
    flags("num_gpus", 2)  # two logical CPU devices stand in for two GPUs
    mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensor_slices(images),
            model_fn=predictions_model_fn, output_fn=received.append, output_every_n_steps=10,
            run_mode=mox.ModeKeys.PREDICT, batch_size=8, max_number_of_steps=10,
            checkpoint_path=str(softmax_checkpoint))
    # [(step-0, GPU-0), (step-0, GPU-1), (step-1, GPU-0), ..., (step-9, GPU-1)], 8 images each:
    # the global batch of a step is split between the devices in order
    assert len(received) == 1 and len(received[0]) == 2 * 10
    expected = expected_predictions(softmax_checkpoint, images[:160]).reshape(20, 8)
    for index, step in enumerate(received[0]):
        np.testing.assert_array_equal(step['predictions'], expected[index])


# --------------------------------------------------------------------------- get_collection


def test_get_collection_samples_inside_model_fn_with_two_devices(tmp_path, flags):
    seen = []

    def model_fn(inputs, mode):
        x, y = inputs
        w = tf.get_variable('w', [784, 10], initializer=tf.zeros_initializer(),
                            regularizer=lambda w: 1e-4 * tf.nn.l2_loss(w))
        logits = tf.matmul(x, w)
        regularization_losses = mox.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        global_variables = mox.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
        seen.append((len(regularization_losses), [v.op.name for v in global_variables]))
        loss = tf.losses.softmax_cross_entropy(y, logits) + tf.add_n(regularization_losses)
        return mox.ModelSpec(loss=loss)

    flags("num_gpus", 2)  # model_fn is called once per device
    mox.run(input_fn=mnist_like_input_fn, model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn('sgd', 0.1), run_mode=mox.ModeKeys.TRAIN,
            batch_size=8, log_dir=str(tmp_path), max_number_of_steps=2)
    # each device's call sees the one shared weight's regularization loss and the variables
    assert seen == [(1, ['global_step', 'w']), (1, ['global_step', 'w'])]


# --------------------------------------------------------------------------- var_scope


def test_var_scope_sample_prints_what_the_manual_shows():
    with tf.Graph().as_default():  # the manual's session runs in graph mode
        with mox.var_scope(force_dtype=tf.float32):
            a = tf.get_variable('a', shape=[], dtype=tf.float16)

        assert str(a) == 'Tensor("Cast:0", shape=(), dtype=float16)'
        # TF 1 printed reference variables as float32_ref; TF 2 makes resource variables
        assert re.fullmatch(r"<tf\.Variable 'a:0' shape=\(\) dtype=float32(_ref)?>",
                            str(tf.global_variables()[0]))
