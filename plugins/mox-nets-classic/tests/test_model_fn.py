"""Using the classic networks through ``mox.get_model_fn`` / ``mox.get_model_meta``."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import mox_core as mox
from mox_core.nets import list_networks

tf1 = tf.compat.v1


def random_batch(shape, seed=0):
    """A uint8 image batch, as a decoder would produce it."""
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def test_model_meta_of_the_classic_networks():
    meta = mox.get_model_meta("lenet")
    assert meta == (28, 0, "fc4")  # TF-Slim's LeNet calls its logits layer fc4
    assert meta.default_image_size == 28 and meta.default_labels_offset == 0
    assert mox.get_model_meta("cifarnet").default_image_size == 32


@pytest.mark.parametrize("name", ["lenet", "cifarnet"])
def test_logits_pattern_names_exactly_the_logits_layer_variables(name):
    """What checkpoint_exclude_patterns needs when fine-tuning on new classes."""
    meta = mox.get_model_meta(name)
    with tf.Graph().as_default():
        size = meta.default_image_size
        images = tf1.placeholder(tf.float32, [1, size, size, 3])
        logits, _ = mox.get_model_fn(name, "EVAL", num_classes=7, preprocess_fn=None)(images)
        matching = [v for v in tf1.global_variables() if meta.default_logits_pattern in v.name]
    assert sorted(v.shape.as_list()[-1] for v in matching) == [7, 7]
    assert {v.name.rsplit("/", 1)[0] for v in matching} == {logits.op.name.rsplit("/", 1)[0]}


def test_list_networks_shows_the_installed_networks():
    assert {"lenet", "cifarnet"} <= set(mox.list_networks())
    assert list_networks("cifar*") == ["cifarnet"]


def test_importing_the_model_zoo_imports_no_tensorflow():
    code = "import sys, mox_core.nets; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_forward_pass_gives_finite_logits_and_softmax_predictions():
    with tf.Graph().as_default():
        network_fn = mox.get_model_fn("cifarnet", mox.ModeKeys.EVAL, num_classes=10)
        images = tf1.placeholder(tf.uint8, [None, 32, 32, 3])  # the default casts to float32
        logits, end_points = network_fn(images)
        assert logits.shape.as_list() == [None, 10]
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            feed = {images: random_batch([2, 32, 32, 3])}
            values, probabilities = sess.run([logits, end_points["Predictions"]], feed)
            again = sess.run(logits, feed)
    assert values.shape == (2, 10) and np.all(np.isfinite(values))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(values, again)  # EVAL: dropout is off


def test_train_mode_turns_dropout_on():
    with tf.Graph().as_default():
        network_fn = mox.get_model_fn("lenet", mox.ModeKeys.TRAIN, num_classes=10)
        images = tf.constant(random_batch([2, 28, 28, 3]))
        logits, _ = network_fn(images)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            first, second = sess.run(logits), sess.run(logits)
    assert not np.allclose(first, second)


@pytest.mark.parametrize("name, learning_rate", [("lenet", 1e-3), ("cifarnet", 0.1)])
def test_a_few_sgd_steps_on_a_fixed_batch_lower_the_loss(name, learning_rate):
    size = mox.get_model_meta(name).default_image_size
    with tf.Graph().as_default():
        tf1.set_random_seed(0)
        network_fn = mox.get_model_fn(
            name, mox.ModeKeys.TRAIN, num_classes=3, dropout_keep_prob=1.0
        )
        images = tf.constant(random_batch([6, size, size, 3]) / 255.0, tf.float32)
        labels = tf.constant([0, 1, 2, 0, 1, 2])
        logits, _ = network_fn(images)
        loss = tf1.losses.sparse_softmax_cross_entropy(labels, logits)
        train_op = tf1.train.GradientDescentOptimizer(learning_rate).minimize(loss)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            losses = [sess.run([loss, train_op])[0] for _ in range(12)]
    assert losses[-1] < 0.9 * losses[0], losses


def test_weight_decay_adds_l2_losses_where_tf_slim_does():
    with tf.Graph().as_default():
        mox.get_model_fn("lenet", mox.ModeKeys.TRAIN, 10, weight_decay=1e-3)(
            tf.zeros([1, 28, 28, 3])
        )
        mox.get_model_fn("cifarnet", mox.ModeKeys.TRAIN, 10, weight_decay=4e-3)(
            tf.zeros([1, 32, 32, 3])
        )
        regularized = sorted(
            loss.op.name.split("/Regularizer")[0] for loss in tf1.losses.get_regularization_losses()
        )
        # LeNet decays every layer; CifarNet only its hidden fully connected layers.
        assert regularized == [
            "CifarNet/fc3/weights",
            "CifarNet/fc4/weights",
            "LeNet/conv1/weights",
            "LeNet/conv2/weights",
            "LeNet/fc3/weights",
            "LeNet/fc4/weights",
        ]
        lenet_weights = [v for v in tf1.global_variables() if v.op.name.startswith("LeNet/")]
        lenet_loss = tf1.losses.get_regularization_loss(scope="LeNet")
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            loss, weights = sess.run([lenet_loss, lenet_weights])
    expected = 1e-3 * sum(np.sum(w**2) / 2 for w in weights if w.ndim > 1)
    assert loss == pytest.approx(expected, rel=1e-4)


def test_no_weight_decay_no_regularization_loss():
    with tf.Graph().as_default():
        mox.get_model_fn("lenet", mox.ModeKeys.TRAIN, 10)(tf.zeros([1, 28, 28, 3]))
        assert tf1.losses.get_regularization_losses() == []


def test_nchw_computes_the_same_logits_with_the_same_weights():
    with tf.Graph().as_default():
        images = tf.constant(random_batch([2, 32, 32, 3]), tf.float32)
        nhwc, _ = mox.get_model_fn("cifarnet", "EVAL", 10, scope="A")(images)
        nchw, ends = mox.get_model_fn("cifarnet", "EVAL", 10, data_format="NCHW", scope="B")(images)
        assert ends["conv1"].shape.as_list() == [2, 64, 32, 32]
        copy = [
            tf1.assign(b, a) for a, b in zip(tf1.global_variables("A/"), tf1.global_variables("B/"))
        ]
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            sess.run(copy)
            a, b = sess.run([nhwc, nchw])
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_predict_and_export_default_to_the_networks_image_size():
    # MoXing's flowers-advanced export: get_model_fn(name, EXPORT, ...) with no image size.
    for mode in (mox.ModeKeys.PREDICT, mox.ModeKeys.EXPORT):
        with tf.Graph().as_default():
            network_fn = mox.get_model_fn("lenet", mode, num_classes=10)
            images = tf1.placeholder(tf.uint8, [None, None, None, 3])
            _, end_points = network_fn(images)
        assert mox.get_model_meta("lenet").default_image_size == 28
        assert end_points["conv1"].shape.as_list() == [None, 28, 28, 32]


def test_augmentation_without_an_output_size_uses_the_networks_size():
    with tf.Graph().as_default():
        image = tf.constant(random_batch([1, 40, 50, 3])[0], tf.uint8)
        for mode in (mox.ModeKeys.TRAIN, mox.ModeKeys.EVAL):
            augmented = mox.get_data_augmentation_fn("cifarnet", mode)(image)
            assert augmented.shape.as_list() == [32, 32, 3], mode


def test_predict_mode_resizes_inputs_of_any_size():
    with tf.Graph().as_default():
        network_fn = mox.get_model_fn(
            "lenet", mox.ModeKeys.PREDICT, 10, image_height=28, image_width=28
        )
        images = tf1.placeholder(tf.uint8, [None, None, None, 3])
        logits, end_points = network_fn(images)
        assert end_points["conv1"].shape.as_list() == [None, 28, 28, 32]
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            small = sess.run(logits, {images: random_batch([3, 20, 17, 3])})
            large = sess.run(logits, {images: random_batch([1, 64, 48, 3])})
    assert small.shape == (3, 10) and large.shape == (1, 10)
    assert np.all(np.isfinite(small)) and np.all(np.isfinite(large))


def test_a_custom_preprocess_fn_gets_images_mode_and_size():
    calls = []

    def preprocess_fn(images, run_mode, *args):
        calls.append((run_mode, args))
        return tf.image.convert_image_dtype(images, tf.float32)

    with tf.Graph().as_default():
        network_fn = mox.get_model_fn(
            "cifarnet", "EVAL", 10, image_height=32, image_width=32, preprocess_fn=preprocess_fn
        )
        network_fn(tf.zeros([1, 32, 32, 3], tf.uint8))
    assert calls == [("EVAL", (32, 32))]


def test_a_preprocess_fn_with_the_wrong_signature_fails_early():
    with pytest.raises(TypeError, match=r"preprocess_fn\(images, run_mode, \*args\)"):
        mox.get_model_fn("lenet", "TRAIN", 10, preprocess_fn=lambda images: images)


def test_unknown_network_error_lists_close_matches():
    with pytest.raises(ValueError, match="unknown network 'lenett'.*Did you mean: lenet"):
        mox.get_model_fn("lenett", mox.ModeKeys.TRAIN, 10)
    with pytest.raises(ValueError, match="unknown network 'cifar_net'"):
        mox.get_model_meta("cifar_net")


def test_network_of_another_plugin_says_how_to_get_it():
    if "mobilenet_v1" in list_networks():
        pytest.skip("mox-nets-mobile is installed here; tox's classic environment runs this")
    with pytest.raises(ValueError) as info:
        mox.get_model_fn("mobilenet_v1", mox.ModeKeys.TRAIN, 1001)
    message = str(info.value)
    assert "'mobilenet_v1'" in message
    assert re.search(r"pip install .*mox-nets-mobile", message) or "Installed networks:" in message


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"run_mode": "TEST"}, "run_mode must be one of TRAIN, EVAL, PREDICT, EXPORT"),
        ({"num_classes": 0}, "num_classes must be a positive int"),
        ({"num_classes": 2.5}, "num_classes must be a positive int"),
        ({"data_format": "NCWH"}, "data_format must be 'NHWC' or 'NCHW'"),
        ({"weight_decay": -1e-4}, "weight_decay must be a number >= 0"),
        ({"image_height": 28}, "give both image_height and image_width"),
    ],
)
def test_bad_arguments_fail_when_get_model_fn_is_called(kwargs, message):
    arguments = {"name": "lenet", "run_mode": "TRAIN", "num_classes": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        mox.get_model_fn(**arguments)


def test_unknown_model_kwargs_name_the_network_and_the_argument():
    with pytest.raises(TypeError, match="network 'cifarnet' takes no argument 'depth_multiplier'"):
        mox.get_model_fn("cifarnet", "TRAIN", 10, depth_multiplier=0.5)
