"""AlexNet, OverFeat, VGG (plain and batch-normalized), Inception and PVANet through get_model_fn.

``test_reference_nets.py`` checks the TF-Slim networks' variables against TF-Slim itself; these
tests run the networks: forward passes at the smallest input each architecture takes, the
auxiliary heads, NCHW against NHWC, what training mode, ``batch_norm_fused``,
``batch_renorm`` and ``weight_decay`` change, and PVANet against the figures of its paper.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import mox_core as mox
from mox_core import ModeKeys

tf1 = tf.compat.v1

NUM_CLASSES = 7  # a class count no layer width has, so the logits layers stand out

# Network -> (input size, model kwargs): the smallest forward pass each architecture allows.
# AlexNet and OverFeat need their default size for fc6's VALID window; VGG takes small inputs
# when fc6 pads and fc7 is pooled; Inception v3/v4/ResNet v2 need 107 for the auxiliary head.
FORWARD = {
    "alexnet_v2": (224, {}),
    "overfeat": (231, {}),
    "vgg_a": (32, {"fc_conv_padding": "SAME", "global_pool": True}),
    "vgg_16": (32, {"fc_conv_padding": "SAME", "global_pool": True}),
    "vgg_19": (32, {"fc_conv_padding": "SAME", "global_pool": True}),
    "vgg_a_bn": (32, {"fc_conv_padding": "SAME", "global_pool": True}),
    "vgg_16_bn": (32, {"fc_conv_padding": "SAME", "global_pool": True}),
    "vgg_19_bn": (32, {"fc_conv_padding": "SAME", "global_pool": True}),
    "inception_v1": (64, {"global_pool": True}),
    "inception_v2": (64, {}),
    "inception_v3": (107, {}),
    "inception_v4": (107, {}),
    "inception_resnet_v2": (107, {}),
    "pvanet": (64, {}),
}
SLOW = {
    "alexnet_v2",
    "overfeat",
    "vgg_16",
    "vgg_19",
    "vgg_16_bn",
    "vgg_19_bn",
    "inception_v3",
    "inception_v4",
    "inception_resnet_v2",
    "pvanet",
}
WITH_AUX_LOGITS = {"inception_v3", "inception_v4", "inception_resnet_v2"}


def slow_marked(names):
    return [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in names]


def build(name, run_mode=ModeKeys.EVAL, size=None, batch=1, height_width=None, **kwargs):
    """``network_fn(placeholder)`` of ``name`` at ``size`` (default: its FORWARD size)."""
    default_size, default_kwargs = FORWARD[name]
    size = size or default_size
    height_width = height_width or (size, size)
    network_fn = mox.get_model_fn(
        name, run_mode, num_classes=NUM_CLASSES, preprocess_fn=None, **{**default_kwargs, **kwargs}
    )
    images = tf1.placeholder(tf.float32, [batch, *height_width, 3], name="images")
    logits, end_points = network_fn(images)
    return images, logits, end_points


def randomize_batch_norms_and_biases(sess, seed=0):
    """Initialize, then random batch-norm parameters, statistics and biases (positive
    variances): with their initial values a batch norm would be nearly an identity."""
    sess.run(tf1.global_variables_initializer())
    rng = np.random.default_rng(seed)
    assignments = []
    for variable in tf1.global_variables():
        name, shape = variable.op.name, variable.shape.as_list()
        if name.endswith("moving_variance"):
            value = rng.uniform(0.5, 1.5, shape)
        elif not name.endswith("weights"):
            value = rng.normal(0.0, 0.1, shape)
        else:
            continue
        assignments.append(tf1.assign(variable, value.astype(np.float32)))
    sess.run(assignments)


def test_model_meta_of_the_families():
    expected = {
        "alexnet_v2": (224, 1, "fc8"),
        "overfeat": (231, 1, "fc8"),
        "vgg_a": (224, 1, "fc8"),
        "vgg_16": (224, 1, "fc8"),
        "vgg_19": (224, 1, "fc8"),
        "vgg_a_bn": (224, 1, "fc8"),
        "vgg_16_bn": (224, 1, "fc8"),
        "vgg_19_bn": (224, 1, "fc8"),
        "inception_v1": (224, 0, "Logits"),
        "inception_v2": (224, 0, "Logits"),
        "inception_v3": (299, 0, "Logits"),
        "inception_v4": (299, 0, "Logits"),
        "inception_resnet_v2": (299, 0, "Logits"),
        "pvanet": (224, 1, "logits"),
    }
    assert {name: tuple(mox.get_model_meta(name)) for name in expected} == expected


@pytest.mark.parametrize("name", slow_marked(FORWARD))
def test_forward_pass_is_finite_and_the_logits_pattern_names_the_heads(name):
    with tf.Graph().as_default():
        images, logits, end_points = build(name, batch=2)
        heads = [logits] + ([end_points["AuxLogits"]] if name in WITH_AUX_LOGITS else [])
        for head in heads:
            assert head.shape.as_list() == [2, NUM_CLASSES]
        assert ("AuxLogits" in end_points) == (name in WITH_AUX_LOGITS)
        assert not tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)  # EVAL: moving averages stay

        # checkpoint_exclude_patterns=<pattern> must drop every class-sized variable (slim's
        # fine-tuning recipe excludes the auxiliary head too), and nothing outside the heads.
        pattern = mox.get_model_meta(name).default_logits_pattern
        matching = {v.op.name for v in tf1.global_variables() if pattern in v.op.name}
        class_sized = {
            v.op.name for v in tf1.global_variables() if v.shape.as_list()[-1] == NUM_CLASSES
        }
        assert class_sized and class_sized <= matching
        head_scopes = {name.split("/")[1] for name in matching}
        assert head_scopes <= {pattern, "AuxLogits"}

        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            feed = {images: np.random.default_rng(0).normal(0, 50, images.shape.as_list())}
            values = sess.run(heads, feed)
    for value in values:
        assert np.all(np.isfinite(value))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(WITH_AUX_LOGITS))
def test_create_aux_logits_false_leaves_the_auxiliary_head_out(name):
    with tf.Graph().as_default():
        _, logits, end_points = build(name, size=75, create_aux_logits=False)
        assert logits.shape.as_list() == [1, NUM_CLASSES]
        assert "AuxLogits" not in end_points
        assert not [v for v in tf1.global_variables() if "AuxLogits" in v.op.name]


@pytest.mark.parametrize(
    "name",
    ["vgg_a_bn", *[pytest.param(n, marks=pytest.mark.slow) for n in ("inception_v2", "pvanet")]],
)
def test_nchw_gives_the_logits_of_nhwc(name):
    """Same variables (shared by reuse), same input: the layout must not change the numbers."""
    with tf.Graph().as_default():
        images = tf1.placeholder(tf.float32, [2, *[FORWARD[name][0]] * 2, 3])
        outputs = {}
        for reuse, data_format in ((None, "NHWC"), (True, "NCHW")):
            with tf1.variable_scope("tower", reuse=reuse):
                network_fn = mox.get_model_fn(
                    name,
                    ModeKeys.EVAL,
                    num_classes=NUM_CLASSES,
                    data_format=data_format,
                    preprocess_fn=None,
                    **FORWARD[name][1],
                )
                outputs[data_format] = network_fn(images)[0]
        with tf1.Session() as sess:
            randomize_batch_norms_and_biases(sess)
            feed = {images: np.random.default_rng(1).normal(0, 1, images.shape.as_list())}
            nhwc, nchw = sess.run([outputs["NHWC"], outputs["NCHW"]], feed)
    assert nhwc.shape == (2, NUM_CLASSES)
    np.testing.assert_allclose(nchw, nhwc, rtol=1e-4, atol=1e-4)


BATCH_NORMALIZED = ["vgg_a_bn", "inception_v1", "inception_v2", "pvanet"]


@pytest.mark.parametrize("name", BATCH_NORMALIZED)
def test_training_mode_adds_the_moving_average_updates(name):
    with tf.Graph().as_default():
        build(name, ModeKeys.TRAIN)
        batch_norms = [v for v in tf1.global_variables() if v.op.name.endswith("moving_mean")]
        updates = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
    assert batch_norms and len(updates) == 2 * len(batch_norms)  # mean and variance


def test_the_update_ops_move_the_moving_statistics():
    with tf.Graph().as_default():
        images, logits, _ = build("vgg_a_bn", ModeKeys.TRAIN, batch=2)
        (moving_mean,) = [
            v
            for v in tf1.global_variables()
            if v.op.name == "vgg_a_bn/conv1/conv1_1/BatchNorm/moving_mean"
        ]
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            feed = {images: np.random.default_rng(2).normal(5, 1, images.shape.as_list())}
            sess.run([logits, tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)], feed)
            assert np.any(sess.run(moving_mean) != 0.0)


@pytest.mark.parametrize(
    "name",
    [
        "vgg_a_bn",
        pytest.param("inception_v1", marks=pytest.mark.slow),
        pytest.param("pvanet", marks=pytest.mark.slow),
        pytest.param("inception_resnet_v2", marks=pytest.mark.slow),  # its own arg scope
    ],
)
def test_batch_norm_fused_and_batch_renorm_reach_every_batch_norm(name):
    size = 75 if name == "inception_resnet_v2" else None
    kwargs = {"create_aux_logits": False} if name == "inception_resnet_v2" else {}
    with tf.Graph().as_default():
        build(name, size=size, batch_norm_fused=True, **kwargs)
        batch_norms = [v for v in tf1.global_variables() if v.op.name.endswith("moving_mean")]
        graph = tf1.get_default_graph()
        fused_ops = [op for op in graph.get_operations() if "FusedBatchNorm" in op.type]
    assert batch_norms and len(fused_ops) == len(batch_norms)

    with tf.Graph().as_default():
        build(name, ModeKeys.TRAIN, size=size, batch_renorm=True, **kwargs)
        names = {v.op.name for v in tf1.global_variables()}
    moving_means = [n for n in names if n.endswith("/moving_mean")]
    assert all(n.replace("/moving_mean", "/renorm_mean") in names for n in moving_means)


@pytest.mark.parametrize(
    "name, regularized",
    [
        ("vgg_a", ("/weights",)),  # slim's VGG decays every layer, fc8 included
        ("inception_v2", ("/weights",)),  # not the separable stem: slim's scope skips it
        ("pvanet", ("/weights",)),
        pytest.param(
            "inception_resnet_v2", ("/weights", "/biases"), marks=pytest.mark.slow
        ),  # its own arg scope decays the biases too
    ],
)
def test_weight_decay_regularizes_the_weights(name, regularized):
    kwargs = {"create_aux_logits": False} if name == "inception_resnet_v2" else {}
    size = 75 if name == "inception_resnet_v2" else None
    with tf.Graph().as_default():
        build(name, ModeKeys.TRAIN, size=size, weight_decay=4e-5, **kwargs)
        losses = tf1.get_collection(tf1.GraphKeys.REGULARIZATION_LOSSES)
        expected = [v for v in tf1.trainable_variables() if v.op.name.endswith(regularized)]
    assert expected and len(losses) == len(expected)


def test_no_weight_decay_adds_no_regularization_loss():
    with tf.Graph().as_default():
        build("vgg_a_bn", ModeKeys.TRAIN)  # get_model_fn's default weight_decay is 0.0
        assert not tf1.get_collection(tf1.GraphKeys.REGULARIZATION_LOSSES)


@pytest.mark.parametrize("config", ["vgg_a", "vgg_16", "vgg_19"])
def test_batch_normalized_vgg_has_batch_norm_instead_of_biases_but_in_fc8(config):
    def layers_of(name):
        with tf.Graph().as_default():
            build(name)
            variables = {
                v.op.name.split("/", 1)[1]: v.shape.as_list() for v in tf1.global_variables()
            }
        return variables

    plain, normalized = layers_of(config), layers_of(f"{config}_bn")
    expected = {}
    for variable, shape in plain.items():
        layer, kind = variable.rsplit("/", 1)
        if kind == "weights":
            expected[variable] = shape
        elif layer == "fc8":
            expected[variable] = shape  # the logits keep their biases
        else:
            for statistic in ("gamma", "beta", "moving_mean", "moving_variance"):
                expected[f"{layer}/BatchNorm/{statistic}"] = shape
    assert normalized == expected
    assert (
        sum(variable.endswith("BatchNorm/beta") for variable in normalized)
        == len([v for v in plain if v.endswith("/biases")]) - 1
    )  # every layer but fc8


def test_pvanet_matches_the_papers_table_1():
    """Kim et al. 2016, Table 1: output sizes on a 1056x640 input, 3.28M weights, 7.9 GMAC."""
    with tf.Graph().as_default():
        _, logits, end_points = build("pvanet", height_width=(640, 1056))
        shapes = {v.op.name: v.shape.as_list() for v in tf1.global_variables()}
        outputs = {key: tensor.shape.as_list()[1:] for key, tensor in end_points.items()}
        macs = sum(
            np.prod(op.inputs[1].shape.as_list()) * np.prod(op.outputs[0].shape.as_list()[1:3])
            for op in tf1.get_default_graph().get_operations()
            if op.type == "Conv2D" and "/logits/" not in op.name
        )
    table_1 = {  # the paper's output column (W x H x C), here [H, W, C]
        "conv1_1": [320, 528, 32],
        "pool1_1": [160, 264, 32],
        "conv2_3": [160, 264, 64],
        "conv3_4": [80, 132, 128],
        "conv4_4": [40, 66, 256],
        "conv5_4": [20, 33, 384],
        "downscale": [40, 66, 128],
        "upscale": [40, 66, 384],
        "concat": [40, 66, 768],
        "convf": [40, 66, 512],
    }
    assert {key: outputs[key] for key in table_1} == table_1
    weights = sum(
        int(np.prod(shape))
        for name, shape in shapes.items()
        if name.endswith("/weights") and "/logits/" not in name
    )
    assert weights == 3_277_552 and round(weights / 1e6, 2) == 3.28
    assert round(macs / 1e9, 1) == 7.9

    # C.ReLU: the 3x3 convolution has 24 filters, its batch norm the 48 channels of concat(x, -x).
    assert shapes["pvanet/conv2_2/Conv2d_0b_3x3/weights"] == [3, 3, 24, 24]
    assert shapes["pvanet/conv2_2/Conv2d_0b_3x3/BatchNorm/gamma"] == [48]
    assert shapes["pvanet/conv2_2/Conv2d_0c_1x1/weights"] == [1, 1, 48, 64]
    # The strided Inception blocks have the pool branch, the others do not.
    assert shapes["pvanet/conv4_1/Branch_3/Conv2d_0b_1x1/weights"] == [1, 1, 128, 128]
    assert not any(name.startswith("pvanet/conv4_2/Branch_3") for name in shapes)
    assert shapes["pvanet/conv5_1/Conv2d_1x1/weights"] == [1, 1, 448, 384]
    # Projection shortcuts only where the width or the stride changes.
    with_shortcut = sorted({name.split("/")[1] for name in shapes if "/shortcut/" in name})
    assert with_shortcut == ["conv2_1", "conv3_1", "conv4_1", "conv5_1"]
    assert not any("upscale" in name for name in shapes)  # a fixed bilinear kernel
    assert shapes["pvanet/logits/weights"] == [1, 1, 512, NUM_CLASSES]
    assert logits.shape.as_list() == [1, NUM_CLASSES]


def test_pvanet_upscale_is_bilinear_and_handles_odd_sizes():
    from mox_nets_classic.pvanet import bilinear_upscale

    with tf.Graph().as_default():
        # A ramp along the width, the same in both channels but scaled, 4x4 -> 8x8 and 7x7.
        ramp = tf.tile(tf.reshape(tf.range(4, dtype=tf.float32), [1, 1, 4, 1]), [1, 4, 1, 1])
        ramp = tf.concat([ramp, 2 * ramp], axis=-1)
        even = bilinear_upscale(ramp, [8, 8])
        odd = bilinear_upscale(ramp, [7, 7])
        nchw = bilinear_upscale(tf.transpose(ramp, [0, 3, 1, 2]), [8, 8], data_format="NCHW")
        with tf1.Session() as sess:
            even, odd, nchw = sess.run([even, odd, nchw])
    assert even.shape == (1, 8, 8, 2) and odd.shape == (1, 7, 7, 2)
    # Inside the borders (which see zero padding) output pixel j samples the input at
    # j / 2 - 1/4: bilinear interpolation of pixel centres, the same in every row.
    interior = np.arange(1, 7) / 2 - 0.25
    np.testing.assert_allclose(even[0, 1:-1, 1:-1, 0], np.tile(interior, [6, 1]))
    np.testing.assert_allclose(even[0, 1:-1, 1:-1, 1], np.tile(2 * interior, [6, 1]))
    np.testing.assert_allclose(odd[0, :-1, :-1], even[0, :-2, :-2])  # the same grid, cropped
    np.testing.assert_allclose(np.transpose(nchw, [0, 2, 3, 1]), even)
