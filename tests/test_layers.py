"""The slim-like layers: TF-Slim's variable names, shapes and numbers, in real sessions."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from mox_core.nets import layers

tf1 = tf.compat.v1


@pytest.fixture
def graph():
    with tf.Graph().as_default() as g:
        tf1.set_random_seed(0)
        yield g


def evaluate(fetches, feed_dict=None):
    """Initialize the current graph's variables and run ``fetches`` once."""
    with tf1.Session() as sess:
        sess.run(tf1.global_variables_initializer())
        return sess.run(fetches, feed_dict)


def variables():
    return [(v.op.name, v.shape.as_list()) for v in tf1.global_variables()]


def random_images(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# --------------------------------------------------------------------------------------------
# conv2d


def test_conv2d_creates_slims_variables_with_default_scope_names(graph):
    images = tf1.placeholder(tf.float32, [None, 9, 9, 3])
    net = layers.conv2d(images, 8, [3, 3])
    layers.conv2d(net, 4, 1)
    layers.conv2d(images, 2, [5, 5], scope="conv3")

    assert variables() == [
        ("Conv/weights", [3, 3, 3, 8]),
        ("Conv/biases", [8]),
        ("Conv_1/weights", [1, 1, 8, 4]),
        ("Conv_1/biases", [4]),
        ("conv3/weights", [5, 5, 3, 2]),
        ("conv3/biases", [2]),
    ]
    assert tf1.model_variables() == tf1.global_variables() == tf1.trainable_variables()


def test_conv2d_computes_weights_times_window_plus_bias(graph):
    images = tf.ones([1, 3, 3, 1])
    out = layers.conv2d(
        images,
        1,
        3,
        activation_fn=None,
        weights_initializer=tf1.ones_initializer(),
        biases_initializer=tf1.constant_initializer(0.5),
    )
    # SAME padding: a corner sees 4 ones, an edge 6, the centre 9.
    expected = np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]], np.float32) + 0.5
    np.testing.assert_allclose(evaluate(out)[0, :, :, 0], expected)


def test_conv2d_default_activation_is_relu(graph):
    out = layers.conv2d(-tf.ones([1, 2, 2, 1]), 1, 1, weights_initializer=tf1.ones_initializer())
    np.testing.assert_array_equal(evaluate(out), np.zeros([1, 2, 2, 1]))


@pytest.mark.parametrize(
    "kernel, stride, padding, rate, expected_hw",
    [
        (3, 1, "SAME", 1, (9, 9)),
        (3, 2, "SAME", 1, (5, 5)),
        (3, 1, "VALID", 1, (7, 7)),
        (3, 2, "VALID", 1, (4, 4)),
        ([3, 5], [1, 2], "VALID", 1, (7, 3)),
        (3, 1, "SAME", 2, (9, 9)),
        (3, 1, "VALID", 2, (5, 5)),  # a rate-2 3x3 kernel spans 5 pixels
    ],
)
def test_conv2d_output_shapes(graph, kernel, stride, padding, rate, expected_hw):
    images = tf.constant(random_images([2, 9, 9, 3]))
    out = layers.conv2d(images, 8, kernel, stride=stride, padding=padding, rate=rate)
    assert out.shape.as_list() == [2, *expected_hw, 8]
    assert evaluate(out).shape == (2, *expected_hw, 8)


@pytest.mark.parametrize("stride, rate", [(1, 1), (2, 1), (1, 2)])
def test_conv2d_nchw_gives_the_nhwc_numbers_with_the_same_variables(graph, stride, rate):
    nhwc = random_images([2, 8, 8, 3])
    images = tf.constant(nhwc)
    out_nhwc = layers.conv2d(images, 4, 3, stride=stride, rate=rate, scope="conv")
    out_nchw = layers.conv2d(
        tf.transpose(images, [0, 3, 1, 2]),
        4,
        3,
        stride=stride,
        rate=rate,
        data_format="NCHW",
        scope="conv",
        reuse=True,
    )
    assert [name for name, _ in variables()] == ["conv/weights", "conv/biases"]
    a, b = evaluate([out_nhwc, out_nchw])
    assert b.shape == (2, 4, *a.shape[1:3])
    np.testing.assert_allclose(b.transpose(0, 2, 3, 1), a, rtol=1e-5, atol=1e-5)


def test_conv2d_normalizer_replaces_biases_and_runs_before_activation(graph):
    def scale(x, factor):
        return x * factor

    out = layers.conv2d(
        tf.ones([1, 1, 1, 2]),
        1,
        1,
        weights_initializer=tf1.constant_initializer(-1.0),
        normalizer_fn=scale,
        normalizer_params={"factor": -3.0},
        scope="bn_conv",
    )
    assert variables() == [("bn_conv/weights", [1, 1, 2, 1])]
    # conv gives -2, the normalizer 6, relu keeps it: relu ran after the normalizer.
    assert evaluate(out).item() == pytest.approx(6.0)


def test_conv2d_without_biases_or_training(graph):
    layers.conv2d(tf.ones([1, 4, 4, 2]), 3, 3, biases_initializer=None, trainable=False)
    assert variables() == [("Conv/weights", [3, 3, 2, 3])]
    assert tf1.trainable_variables() == []


def test_conv2d_rejects_bad_arguments(graph):
    images = tf.ones([1, 8, 8, 3])
    with pytest.raises(ValueError, match="data_format"):
        layers.conv2d(images, 4, 3, data_format="NCWH")
    with pytest.raises(ValueError, match="padding"):
        layers.conv2d(images, 4, 3, padding="FULL")
    with pytest.raises(ValueError, match="stride.*rate"):
        layers.conv2d(images, 4, 3, stride=2, rate=2)
    with pytest.raises(ValueError, match="4-D"):
        layers.conv2d(tf.ones([8, 8, 3]), 4, 3)


# --------------------------------------------------------------------------------------------
# regularization


def test_weight_decay_is_scale_times_l2_loss_once_per_variable(graph):
    images = tf.constant(random_images([1, 5, 5, 3]))
    layers.conv2d(images, 4, 3, weights_regularizer=layers.l2_regularizer(0.01), scope="c")
    # Reusing the scope (a second tower) must not add the loss again.
    layers.conv2d(
        images, 4, 3, weights_regularizer=layers.l2_regularizer(0.01), scope="c", reuse=True
    )
    losses = tf1.losses.get_regularization_losses()
    assert len(losses) == 1

    weights = tf1.global_variables()[0]
    loss, w = evaluate([tf1.losses.get_regularization_loss(), weights])
    assert loss == pytest.approx(0.01 * np.sum(w**2) / 2, rel=1e-5)


def test_zero_weight_decay_adds_no_loss(graph):
    layers.fully_connected(tf.ones([2, 3]), 4, weights_regularizer=layers.l2_regularizer(0.0))
    assert tf1.losses.get_regularization_losses() == []


def test_l2_regularizer_rejects_negative_scale():
    with pytest.raises(ValueError, match=">= 0"):
        layers.l2_regularizer(-1e-4)


# --------------------------------------------------------------------------------------------
# fully_connected, flatten


def test_fully_connected_is_x_times_weights_plus_biases(graph):
    x = random_images([2, 3])
    out = layers.fully_connected(tf.constant(x), 4, activation_fn=None)
    layers.fully_connected(out, 5)
    assert variables() == [
        ("fully_connected/weights", [3, 4]),
        ("fully_connected/biases", [4]),
        ("fully_connected_1/weights", [4, 5]),
        ("fully_connected_1/biases", [5]),
    ]
    w, b = tf1.global_variables()[:2]
    y, w, b = evaluate([out, w, b])
    np.testing.assert_allclose(y, x @ w + b, rtol=1e-5)


def test_fully_connected_on_rank_3_works_on_the_last_axis(graph):
    out = layers.fully_connected(tf.ones([2, 7, 3]), 4)
    assert out.shape.as_list() == [2, 7, 4]
    assert variables()[0] == ("fully_connected/weights", [3, 4])


def test_flatten_keeps_the_batch_and_memory_order(graph):
    x = random_images([2, 3, 4, 5])
    known = layers.flatten(tf.constant(x))
    unknown_batch = layers.flatten(tf1.placeholder(tf.float32, [None, 3, 4, 5]))
    assert known.shape.as_list() == [2, 60]
    assert unknown_batch.shape.as_list() == [None, 60]
    np.testing.assert_array_equal(evaluate(known), x.reshape(2, 60))


# --------------------------------------------------------------------------------------------
# pooling, dropout


def test_pools_default_to_2x2_stride_2_valid(graph):
    grid = tf.reshape(tf.range(16, dtype=tf.float32), [1, 4, 4, 1])
    max_out, avg_out = evaluate([layers.max_pool2d(grid, 2), layers.avg_pool2d(grid, 2)])
    np.testing.assert_array_equal(max_out[0, :, :, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(avg_out[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])


def test_pool_shapes_for_same_and_valid(graph):
    images = tf.ones([1, 5, 5, 2])
    assert layers.max_pool2d(images, 2).shape.as_list() == [1, 2, 2, 2]
    assert layers.max_pool2d(images, 2, padding="SAME").shape.as_list() == [1, 3, 3, 2]
    assert layers.avg_pool2d(images, 3, stride=1).shape.as_list() == [1, 3, 3, 2]


@pytest.mark.parametrize("pool", [layers.max_pool2d, layers.avg_pool2d])
def test_pools_nchw_give_the_nhwc_numbers(graph, pool):
    x = random_images([2, 7, 7, 3])
    a = pool(tf.constant(x), 3, stride=2, padding="SAME")
    b = pool(tf.constant(x.transpose(0, 3, 1, 2)), 3, 2, "SAME", data_format="NCHW")
    a, b = evaluate([a, b])
    np.testing.assert_allclose(b.transpose(0, 2, 3, 1), a, rtol=1e-6)


def test_dropout_is_the_identity_when_not_training(graph):
    x = random_images([4, 10])
    np.testing.assert_array_equal(evaluate(layers.dropout(x, 0.5, is_training=False)), x)


def test_dropout_in_training_zeroes_or_scales_by_one_over_keep_prob(graph):
    x = np.ones([100, 100], np.float32)
    out = evaluate(layers.dropout(tf.constant(x), keep_prob=0.25))
    assert set(np.unique(out)) <= {0.0, 4.0}
    assert 0.2 < np.mean(out == 4.0) < 0.3


def test_dropout_training_switch_can_be_a_tensor(graph):
    training = tf1.placeholder(tf.bool, [])
    out = layers.dropout(tf.ones([50, 50]), keep_prob=0.5, is_training=training)
    with tf1.Session() as sess:
        assert np.all(sess.run(out, {training: False}) == 1.0)
        assert np.any(sess.run(out, {training: True}) == 0.0)


# --------------------------------------------------------------------------------------------
# arg_scope


def test_arg_scope_sets_defaults_of_the_listed_layers(graph):
    images = tf.constant(random_images([1, 8, 8, 3]))
    with layers.arg_scope([layers.conv2d, layers.max_pool2d], padding="VALID"):
        conv = layers.conv2d(images, 4, 3)
        pool = layers.max_pool2d(images, 3, stride=1)
        fc = layers.fully_connected(layers.flatten(images), 2)  # not listed: untouched
    after = layers.conv2d(images, 4, 3)
    assert conv.shape.as_list() == [1, 6, 6, 4]
    assert pool.shape.as_list() == [1, 6, 6, 3]
    assert fc.shape.as_list() == [1, 2]
    assert after.shape.as_list() == [1, 8, 8, 4]  # back to slim's SAME default


def test_nested_arg_scopes_merge_and_inner_values_win(graph):
    images = tf.constant(-np.ones([1, 4, 4, 1], np.float32))
    ones = tf1.ones_initializer()
    with layers.arg_scope([layers.conv2d], activation_fn=None, weights_initializer=ones):
        with layers.arg_scope([layers.conv2d], stride=2):
            inner = layers.conv2d(images, 1, 1)
            explicit = layers.conv2d(images, 1, 1, stride=1)
            positional = layers.conv2d(images, 1, 1, 1)  # stride given by position
        outer = layers.conv2d(images, 1, 1)
    # Inner scope: stride 2 and the outer scope's activation_fn=None (negative values kept).
    assert inner.shape.as_list() == [1, 2, 2, 1]
    assert explicit.shape.as_list() == positional.shape.as_list() == [1, 4, 4, 1]
    assert outer.shape.as_list() == [1, 4, 4, 1]
    assert np.all(evaluate(inner) == -1.0)


def test_a_saved_arg_scope_can_be_entered_again(graph):
    def my_arg_scope():
        with layers.arg_scope([layers.fully_connected], activation_fn=None) as sc:
            return sc

    saved = my_arg_scope()
    assert layers.current_arg_scope() == {}
    with layers.arg_scope(saved):
        out = layers.fully_connected(
            -tf.ones([1, 2]), 1, weights_initializer=tf1.ones_initializer()
        )
    assert evaluate(out).item() == -2.0


def test_add_arg_scope_makes_any_function_scopable():
    @layers.add_arg_scope
    def greet(name, greeting="hello"):
        return f"{greeting} {name}"

    with layers.arg_scope([greet], greeting="hi"):
        assert greet("mox") == "hi mox"
        assert greet("mox", "hey") == "hey mox"
    assert greet("mox") == "hello mox"
    assert layers.has_arg_scope(greet) and not layers.has_arg_scope(print)


def test_arg_scope_refuses_plain_functions_and_unknown_arguments():
    with pytest.raises(ValueError, match="add_arg_scope"):
        with layers.arg_scope([tf.nn.relu], name="x"):
            pass
    with pytest.raises(TypeError, match="max_pool2d.*activation_fn"):
        with layers.arg_scope([layers.conv2d, layers.max_pool2d], activation_fn=None):
            pass


# --------------------------------------------------------------------------------------------
# outputs collections (how slim's VGG and ResNet build their end_points)


def test_outputs_collections_name_outputs_by_scope(graph):
    with tf1.variable_scope("net"):
        with layers.arg_scope([layers.conv2d, layers.max_pool2d], outputs_collections="ends"):
            conv = layers.conv2d(tf.ones([1, 4, 4, 1]), 2, 3, scope="conv1")
            pool = layers.max_pool2d(conv, 2, scope="pool1")
    end_points = layers.convert_collection_to_dict("ends")
    assert list(end_points) == ["net/conv1", "net/pool1"]
    assert end_points["net/conv1"] is conv and end_points["net/pool1"] is pool
