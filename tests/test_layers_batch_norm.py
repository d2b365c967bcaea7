"""batch_norm, separable_conv2d, grouped conv2d, repeat and stack: slim's names and numbers."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from mox_core.nets import layers

tf1 = tf.compat.v1
UPDATE_OPS = tf1.GraphKeys.UPDATE_OPS


@pytest.fixture
def graph():
    with tf.Graph().as_default() as g:
        tf1.set_random_seed(0)
        yield g


def random_images(shape, seed=0, scale=3.0, shift=1.0):
    """Values far from zero mean and unit variance, so normalization visibly does something."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale + shift).astype(np.float32)


def names(variables):
    return [v.op.name for v in variables]


def session():
    sess = tf1.Session()
    sess.run(tf1.global_variables_initializer())
    return sess


def nchw(array):
    return array.transpose(0, 3, 1, 2)


def nhwc(array):
    return array.transpose(0, 2, 3, 1)


def by_name(name):
    (variable,) = [v for v in tf1.global_variables() if v.op.name == name]
    return variable


# --------------------------------------------------------------------------------------------
# batch_norm: variables


def test_batch_norm_creates_slims_variables_in_slims_order(graph):
    images = tf.zeros([2, 4, 4, 3])
    layers.batch_norm(images, scale=True)
    layers.batch_norm(images)  # slim's default: no gamma
    layers.batch_norm(images, center=False, scope="bn")

    assert names(tf1.global_variables()) == [
        "BatchNorm/gamma",
        "BatchNorm/beta",
        "BatchNorm/moving_mean",
        "BatchNorm/moving_variance",
        "BatchNorm_1/beta",
        "BatchNorm_1/moving_mean",
        "BatchNorm_1/moving_variance",
        "bn/moving_mean",
        "bn/moving_variance",
    ]
    assert names(tf1.trainable_variables()) == [
        "BatchNorm/gamma",
        "BatchNorm/beta",
        "BatchNorm_1/beta",
    ]
    assert tf1.model_variables() == tf1.global_variables()
    moving = [v for v in tf1.global_variables() if "moving" in v.op.name]
    assert tf1.moving_average_variables() == moving
    assert all(v.shape.as_list() == [3] for v in tf1.global_variables())


def test_batch_norm_variables_collections_and_initializers(graph):
    layers.batch_norm(
        tf.zeros([2, 5]),
        scale=True,
        param_initializers={"gamma": tf1.constant_initializer(2.0)},
        param_regularizers={"gamma": layers.l2_regularizer(0.5)},
        variables_collections={"beta": ["betas"], "moving_mean": "means"},
    )
    assert names(tf1.get_collection("betas")) == ["BatchNorm/beta"]
    assert names(tf1.get_collection("means")) == ["BatchNorm/moving_mean"]
    with session() as sess:
        gamma, loss = sess.run([by_name("BatchNorm/gamma"), tf1.losses.get_regularization_loss()])
    np.testing.assert_array_equal(gamma, np.full(5, 2.0))
    assert loss == pytest.approx(0.5 * 5 * 4.0 / 2)


def test_batch_norm_rejects_unknown_keys_and_unknown_channels(graph):
    with pytest.raises(ValueError, match="unknown param_initializers key.*'gama'"):
        layers.batch_norm(tf.zeros([2, 3]), param_initializers={"gama": tf1.ones_initializer()})
    with pytest.raises(ValueError, match="unknown renorm_clipping key.*'r_max'"):
        layers.batch_norm(tf.zeros([2, 3]), renorm=True, renorm_clipping={"r_max": 3.0})
    with pytest.raises(ValueError, match="known number of channels"):
        layers.batch_norm(tf1.placeholder(tf.float32, [None, 4, 4, None]))


# --------------------------------------------------------------------------------------------
# batch_norm: training and inference


def test_training_normalizes_with_batch_statistics_and_queues_moving_average_updates(graph):
    x = random_images([8, 3, 3, 4])
    outputs = layers.batch_norm(tf.constant(x), decay=0.9, epsilon=1e-3, is_training=True)
    updates = tf1.get_collection(UPDATE_OPS)
    assert len(updates) == 2
    moving_mean, moving_variance = (
        by_name("BatchNorm/moving_mean"),
        by_name("BatchNorm/moving_variance"),
    )
    with session() as sess:
        y = sess.run(outputs)
        assert sess.run(moving_mean).tolist() == [0.0] * 4  # nothing moves without the updates
        sess.run(updates)
        mean, variance = sess.run([moving_mean, moving_variance])
    axes = (0, 1, 2)
    expected = (x - x.mean(axes)) / np.sqrt(x.var(axes) + 1e-3)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mean, 0.1 * x.mean(axes), rtol=1e-5)
    # The moving variance moves towards the unbiased batch variance (Bessel's correction).
    np.testing.assert_allclose(variance, 0.9 + 0.1 * x.var(axes, ddof=1), rtol=1e-5)


def test_inference_normalizes_with_the_moving_statistics_and_updates_nothing(graph):
    x = random_images([2, 3, 3, 4])
    outputs = layers.batch_norm(tf.constant(x), scale=True, epsilon=1e-3, is_training=False)
    assert tf1.get_collection(UPDATE_OPS) == []
    mean, variance = np.arange(4.0), np.arange(1.0, 5.0)
    gamma, beta = np.full(4, 2.0), np.full(4, -1.0)
    with session() as sess:
        values = {"moving_mean": mean, "moving_variance": variance, "gamma": gamma, "beta": beta}
        for name, value in values.items():
            by_name(f"BatchNorm/{name}").load(value, sess)
        y = sess.run(outputs)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(variance + 1e-3) * gamma + beta, rtol=1e-5)


def test_without_updates_collections_the_output_updates_the_moving_statistics(graph):
    outputs = layers.batch_norm(tf.constant(random_images([4, 2, 2, 3])), updates_collections=None)
    assert tf1.get_collection(UPDATE_OPS) == []
    with session() as sess:
        sess.run(outputs)
        assert np.all(sess.run(by_name("BatchNorm/moving_mean")) != 0.0)


@pytest.mark.parametrize("renorm", [False, True])
@pytest.mark.parametrize("fused", [False, True])
def test_is_training_can_be_decided_at_run_time(graph, fused, renorm):
    x = random_images([4, 3, 3, 2])
    is_training = tf1.placeholder_with_default(True, [])
    outputs = layers.batch_norm(tf.constant(x), is_training=is_training, fused=fused, renorm=renorm)
    updates = tf1.get_collection(UPDATE_OPS)
    moving_mean = by_name("BatchNorm/moving_mean")
    with session() as sess:
        before = sess.run(tf1.global_variables())
        inferred, _ = sess.run([outputs, updates], {is_training: False})
        unchanged = sess.run(tf1.global_variables())
        trained, _ = sess.run([outputs, updates])
        moved = sess.run(moving_mean)
    # Not training: the moving statistics (mean 0, variance 1) normalize, nothing moves.
    np.testing.assert_allclose(inferred, x / np.sqrt(1.0 + 1e-3), rtol=1e-5)
    for a, b in zip(before, unchanged):
        np.testing.assert_array_equal(a, b)
    # Training: the batch statistics normalize (and renorm corrects them), the averages move.
    assert not np.allclose(trained, inferred)
    np.testing.assert_allclose(moved, 0.001 * x.mean((0, 1, 2)), rtol=1e-4)


# --------------------------------------------------------------------------------------------
# batch_norm: fused, layouts, ranks


def _train_one_step(x, **kwargs):
    """Outputs in training, the moving statistics after one update, outputs in inference."""
    with tf.Graph().as_default():
        images = tf.constant(x)
        params = {"gamma": tf1.constant_initializer(1.5), "beta": tf1.constant_initializer(0.25)}
        kwargs = {"scale": True, "decay": 0.5, "param_initializers": params, **kwargs}
        train = layers.batch_norm(images, is_training=True, **kwargs)
        infer = layers.batch_norm(
            images, is_training=False, reuse=True, scope="BatchNorm", **kwargs
        )
        with session() as sess:
            trained = sess.run(train)
            sess.run(tf1.get_collection(UPDATE_OPS))
            moving = sess.run(
                [by_name("BatchNorm/moving_mean"), by_name("BatchNorm/moving_variance")]
            )
            return trained, moving, sess.run(infer)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_fused_and_not_fused_give_the_same_numbers(data_format):
    x = random_images([4, 5, 5, 6])
    if data_format == "NCHW":
        x = nchw(x)
    fused = _train_one_step(x, fused=True, data_format=data_format)
    plain = _train_one_step(x, fused=False, data_format=data_format)
    np.testing.assert_allclose(fused[0], plain[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fused[1], plain[1], rtol=1e-5)
    np.testing.assert_allclose(fused[2], plain[2], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("renorm", [False, True])
def test_nchw_gives_the_nhwc_numbers(renorm):
    x = random_images([4, 5, 5, 6])
    a = _train_one_step(x, renorm=renorm)
    b = _train_one_step(nchw(x), renorm=renorm, data_format="NCHW")
    np.testing.assert_allclose(a[0], nhwc(b[0]), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-5)
    np.testing.assert_allclose(a[2], nhwc(b[2]), rtol=1e-5, atol=1e-5)


def test_rank_2_inputs_normalize_each_feature(graph):
    x = random_images([16, 5])
    outputs = layers.batch_norm(tf.constant(x), epsilon=0.0, fused=True)
    with session() as sess:
        y = sess.run(outputs)
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1.0, rtol=1e-4)


def test_gamma_and_beta_get_gradients(graph):
    outputs = layers.batch_norm(tf.constant(random_images([4, 3, 3, 2])), scale=True)
    loss = tf.reduce_sum(outputs * tf.constant(random_images([4, 3, 3, 2], seed=1)))
    gradients = tf.gradients(loss, tf1.trainable_variables())
    with session() as sess:
        values = sess.run(gradients)
    assert all(np.all(np.isfinite(g)) and np.any(g != 0) for g in values)


def test_conv2d_with_batch_norm_and_arg_scope(graph):
    with layers.arg_scope([layers.batch_norm], is_training=False, scale=True):
        net = layers.conv2d(tf.zeros([1, 4, 4, 3]), 8, 3, normalizer_fn=layers.batch_norm)
    assert names(tf1.global_variables()) == [
        "Conv/weights",
        "Conv/BatchNorm/gamma",
        "Conv/BatchNorm/beta",
        "Conv/BatchNorm/moving_mean",
        "Conv/BatchNorm/moving_variance",
    ]
    assert net.shape.as_list() == [1, 4, 4, 8]
    assert tf1.get_collection(UPDATE_OPS) == []  # the arg scope's is_training=False reached it


# --------------------------------------------------------------------------------------------
# batch renormalization


def test_renorm_adds_tf_layers_renorm_variables_under_batch_norm(graph):
    layers.batch_norm(tf.zeros([2, 4, 4, 3]), scale=True, renorm=True, fused=True)
    assert names(tf1.global_variables()) == [
        "BatchNorm/gamma",
        "BatchNorm/beta",
        "BatchNorm/moving_mean",
        "BatchNorm/moving_variance",
        "BatchNorm/moving_stddev",
        "BatchNorm/renorm_mean",
        "BatchNorm/renorm_stddev",
    ]
    assert names(tf1.trainable_variables()) == ["BatchNorm/gamma", "BatchNorm/beta"]
    assert len(tf1.get_collection(UPDATE_OPS)) == 4


def test_renorm_corrects_the_batch_statistics_towards_the_running_ones(graph):
    """y = x_hat * r + d, r = sigma_B / renorm_stddev, d = (mu_B - renorm_mean) / renorm_stddev."""
    x = random_images([8, 3, 3, 4])
    eps = 1e-3
    clipping = {"rmax": 2.5, "rmin": 0.5, "dmax": 0.75}
    outputs = layers.batch_norm(
        tf.constant(x),
        epsilon=eps,
        decay=0.9,
        renorm=True,
        renorm_decay=0.5,
        renorm_clipping=clipping,
    )
    updates = tf1.get_collection(UPDATE_OPS)
    renorm_mean, renorm_stddev = np.full(4, 0.5, np.float32), np.full(4, 1.2, np.float32)
    with session() as sess:
        by_name("BatchNorm/renorm_mean").load(renorm_mean, sess)
        by_name("BatchNorm/renorm_stddev").load(renorm_stddev, sess)
        y = sess.run(outputs)
        sess.run(updates)
        after = {v.op.name.split("/")[1]: sess.run(v) for v in tf1.global_variables()}
    mean, variance = x.mean((0, 1, 2)), x.var((0, 1, 2))
    stddev = np.sqrt(variance + eps)
    r = np.clip(stddev / renorm_stddev, 0.5, 2.5)
    d = np.clip((mean - renorm_mean) / renorm_stddev, -0.75, 0.75)
    np.testing.assert_allclose(y, (x - mean) / stddev * r + d, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(after["renorm_mean"], 0.5 * renorm_mean + 0.5 * mean, rtol=1e-5)
    np.testing.assert_allclose(
        after["renorm_stddev"], 0.5 * renorm_stddev + 0.5 * stddev, rtol=1e-5
    )
    np.testing.assert_allclose(after["moving_mean"], 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(after["moving_stddev"], 0.9 + 0.1 * stddev, rtol=1e-5)
    np.testing.assert_allclose(
        after["moving_variance"], after["moving_stddev"] ** 2 - eps, rtol=1e-5
    )


def test_renorm_with_no_room_to_correct_is_plain_batch_norm():
    x = random_images([4, 5, 5, 6])
    clipping = {"rmax": 1.0, "rmin": 1.0, "dmax": 0.0}  # r = 1, d = 0: the start of the paper
    renorm = _train_one_step(x, renorm=True, renorm_clipping=clipping)
    plain = _train_one_step(x)
    np.testing.assert_allclose(renorm[0], plain[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(renorm[1][0], plain[1][0], rtol=1e-5)  # the moving mean
    # The moving variance differs on purpose: renorm tracks moving_stddev, of the biased batch
    # variance plus epsilon, as tf.compat.v1.layers does.


# --------------------------------------------------------------------------------------------
# separable_conv2d


def test_separable_conv2d_creates_slims_depthwise_and_pointwise_weights(graph):
    images = tf.zeros([1, 8, 8, 3])
    net = layers.separable_conv2d(images, 16, [3, 3], depth_multiplier=2)
    depthwise = layers.separable_conv2d(net, None, 3, stride=2, scope="dw")
    assert [(v.op.name, v.shape.as_list()) for v in tf1.global_variables()] == [
        ("SeparableConv2d/depthwise_weights", [3, 3, 3, 2]),
        ("SeparableConv2d/pointwise_weights", [1, 1, 6, 16]),
        ("SeparableConv2d/biases", [16]),
        ("dw/depthwise_weights", [3, 3, 16, 1]),
        ("dw/biases", [16]),
    ]
    assert net.shape.as_list() == [1, 8, 8, 16]
    assert depthwise.shape.as_list() == [1, 4, 4, 16]


def test_separable_conv2d_is_depthwise_then_pointwise(graph):
    x = random_images([2, 6, 6, 3])
    outputs = layers.separable_conv2d(tf.constant(x), 4, 3, depth_multiplier=2, activation_fn=None)
    depthwise = by_name("SeparableConv2d/depthwise_weights")
    pointwise = by_name("SeparableConv2d/pointwise_weights")
    expected = tf.nn.conv2d(
        tf.nn.depthwise_conv2d(tf.constant(x), depthwise, [1, 1, 1, 1], "SAME"),
        pointwise,
        1,
        "SAME",
    )
    with session() as sess:
        a, b = sess.run([outputs, expected])
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("num_outputs", [5, None])
def test_separable_conv2d_nchw_gives_the_nhwc_numbers(graph, num_outputs):
    x = random_images([2, 7, 7, 3])
    a = layers.separable_conv2d(tf.constant(x), num_outputs, 3, stride=2, scope="a")
    b = layers.separable_conv2d(
        tf.constant(nchw(x)), num_outputs, 3, stride=2, data_format="NCHW", scope="b"
    )
    copy = [
        tf1.assign(w, v) for v, w in zip(tf1.global_variables("a/"), tf1.global_variables("b/"))
    ]
    with session() as sess:
        sess.run(copy)
        p, q = sess.run([a, b])
    np.testing.assert_allclose(p, nhwc(q), rtol=1e-5, atol=1e-5)


def test_separable_conv2d_normalizer_replaces_biases_and_decay_covers_both_kernels(graph):
    with layers.arg_scope(
        [layers.separable_conv2d],
        normalizer_fn=layers.batch_norm,
        weights_regularizer=layers.l2_regularizer(1e-3),
    ):
        layers.separable_conv2d(
            tf.zeros([1, 4, 4, 2]), 3, 3, variables_collections={"weights": "w"}
        )
    assert names(tf1.get_collection("w")) == [
        "SeparableConv2d/depthwise_weights",
        "SeparableConv2d/pointwise_weights",
    ]
    assert "SeparableConv2d/BatchNorm/beta" in names(tf1.global_variables())
    assert len(tf1.losses.get_regularization_losses()) == 2


# --------------------------------------------------------------------------------------------
# grouped conv2d


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_grouped_conv2d_convolves_each_group_with_its_slice_of_the_weights(graph, data_format):
    x = random_images([2, 6, 6, 8])
    inputs = tf.constant(x if data_format == "NHWC" else nchw(x))
    outputs = layers.conv2d(
        inputs, 12, 3, stride=2, groups=4, activation_fn=None, data_format=data_format
    )
    weights = by_name("Conv/weights")
    assert weights.shape.as_list() == [3, 3, 2, 12]
    pieces = [
        tf.nn.conv2d(x_g, w_g, 2, "SAME")
        for x_g, w_g in zip(tf.split(tf.constant(x), 4, axis=3), tf.split(weights, 4, axis=3))
    ]
    expected = tf.concat(pieces, axis=3)
    gradients = tf.gradients(tf.reduce_sum(outputs**2), [inputs, weights])  # works on CPU too
    with session() as sess:
        a, b, grads = sess.run([outputs, expected, gradients])
    if data_format == "NCHW":
        a = nhwc(a)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_groups_must_divide_the_channels(graph):
    with pytest.raises(ValueError, match="groups=3 must divide"):
        layers.conv2d(tf.zeros([1, 4, 4, 8]), 12, 3, groups=3)


# --------------------------------------------------------------------------------------------
# repeat and stack


def test_repeat_and_stack_name_layers_as_slim(graph):
    images = tf.zeros([1, 8, 8, 3])
    net = layers.repeat(images, 2, layers.conv2d, 4, [3, 3], scope="conv1")
    net = layers.stack(net, layers.conv2d, [(8, [3, 3]), (16, [1, 1])], scope="conv2")
    layers.repeat(net, 2, layers.max_pool2d, [2, 2])
    flat = layers.flatten(net)
    layers.stack(flat, layers.fully_connected, [32, 10])
    assert [
        (v.op.name, v.shape.as_list()) for v in tf1.global_variables() if "weights" in v.op.name
    ] == [
        ("conv1/conv1_1/weights", [3, 3, 3, 4]),
        ("conv1/conv1_2/weights", [3, 3, 4, 4]),
        ("conv2/conv2_1/weights", [3, 3, 4, 8]),
        ("conv2/conv2_2/weights", [1, 1, 8, 16]),
        ("Stack/fully_connected_1/weights", [1024, 32]),
        ("Stack/fully_connected_2/weights", [32, 10]),
    ]
