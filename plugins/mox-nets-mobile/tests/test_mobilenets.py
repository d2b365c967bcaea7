"""MobileNet v1 and v2 through ``mox.get_model_fn``: they run, and compute as TF-Slim's do.

``test_reference_nets.py`` checks the variables against TF-Slim's; here: a training-mode
forward pass of every MobileNet, the depth multipliers' rounding, explicit padding, batch-norm
settings (decay, epsilon, fused or not), which weights decay, and that NCHW computes the NHWC
logits from the same weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from mobile_testing import REFERENCE, assert_batch_norm_moves_by, build, logits_in, run
from mox_nets_mobile.mobilenet_v2 import make_divisible

from mox_core import ModeKeys, testing
from mox_core.nets import net_utils

tf1 = tf.compat.v1

MOBILENETS = ["mobilenet_v1", "mobilenet_v1_075", "mobilenet_v1_050", "mobilenet_v1_025",
              "mobilenet_v2", "mobilenet_v2_140", "mobilenet_v2_035"]  # fmt: skip


def channels(end_points, key):
    return end_points[key].shape.as_list()[-1]


@pytest.mark.parametrize("name", MOBILENETS)
def test_forward_pass_in_training_mode_is_finite(name):
    with tf.Graph().as_default():
        logits, end_points = build(name, ModeKeys.TRAIN, size=64)
        assert logits.shape.as_list() == [2, 10]
        update_ops = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
        assert update_ops  # batch norm's moving averages
        values, probabilities, _ = run([logits, end_points["Predictions"], update_ops])
    assert np.all(np.isfinite(values))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_mobilenet_v1_depths_are_the_multiplied_ones_but_never_below_min_depth():
    with tf.Graph().as_default():
        _, end_points = build("mobilenet_v1_025", min_depth=16)
    assert channels(end_points, "Conv2d_0") == 16  # 32 * 0.25 = 8, raised to 16
    assert channels(end_points, "Conv2d_2_pointwise") == 32  # 128 * 0.25
    assert channels(end_points, "Conv2d_13_pointwise") == 256
    shapes = REFERENCE["mobilenet_v1_025"]["end_point_shapes"]  # the default min_depth, 8
    assert shapes["Conv2d_0"][-1] == 8 and shapes["Conv2d_1_pointwise"][-1] == 16


def test_mobilenet_v2_rounds_depths_to_multiples_of_8_losing_at_most_10_percent():
    assert make_divisible(32 * 0.35, 8) == 16  # 8 would lose 29%
    assert make_divisible(16 * 0.35, 8) == 8
    assert make_divisible(24 * 1.4, 8) == 32
    assert make_divisible(1280 * 1.4, 8) == 1792
    shapes = REFERENCE["mobilenet_v2_035"]["end_point_shapes"]
    assert shapes["layer_1"][-1] == 16
    assert shapes["layer_19"][-1] == 1280  # fine-grain mode keeps the last layer
    with tf.Graph().as_default():
        _, end_points = build("mobilenet_v2", depth_multiplier=0.35)
    assert channels(end_points, "layer_1") == 16
    assert channels(end_points, "layer_19") == 448  # 1280 * 0.35 without fine-grain mode


def test_mobilenet_v2_adds_the_input_back_where_stride_and_depth_allow():
    with tf.Graph().as_default():
        build("mobilenet_v2_035")
        names = [op.name.split("/") for op in tf1.get_default_graph().get_operations()]
        residual_blocks = {parts[1] for parts in names if len(parts) == 3 and parts[2] == "add"}
    # Stride-1 blocks whose input has their output depth: 1 + 2 + 3 + 2 + 2 of the 17.
    assert len(residual_blocks) == 10
    assert "expanded_conv_2" in residual_blocks and "expanded_conv_3" not in residual_blocks


def test_fixed_padding_is_slims():
    def paddings(kernel, data_format, rate=1):
        with tf.Graph().as_default():
            padded = net_utils.fixed_padding(tf.zeros([1, 2, 8, 8]), kernel, data_format, rate)
            return padded.op.inputs[1]

    with tf.Graph().as_default():
        assert tf.get_static_value(paddings([3, 3], "NHWC")).tolist() == [
            [0, 0], [1, 1], [1, 1], [0, 0]
        ]  # fmt: skip
        assert tf.get_static_value(paddings([3, 3], "NCHW", rate=2)).tolist() == [
            [0, 0], [0, 0], [2, 2], [2, 2]
        ]  # fmt: skip
        assert tf.get_static_value(paddings([4, 4], "NHWC")).tolist()[1] == [1, 2]


@pytest.mark.parametrize("name", ["mobilenet_v1_025", "mobilenet_v2_035"])
def test_explicit_padding_convolves_valid_with_the_same_shapes(name):
    def built(**kwargs):
        with tf.Graph().as_default():
            _, end_points = build(name, size=64, **kwargs)
            paddings = {
                op.get_attr("padding")
                for op in tf1.get_default_graph().get_operations()
                if op.type in ("Conv2D", "DepthwiseConv2dNative") and "/Logits/" not in op.name
            }  # the 1x1 logits convolution is outside the body, SAME in both (as slim's)
            return {key: t.shape.as_list() for key, t in end_points.items()}, paddings

    same_shapes, same = built()
    explicit_shapes, explicit = built(use_explicit_padding=True)
    assert same == {b"SAME"} and explicit == {b"VALID"}
    assert explicit_shapes == same_shapes


@pytest.mark.parametrize(
    "name, decay, epsilon",
    [("mobilenet_v1_025", 0.9997, 0.001), ("mobilenet_v2_035", 0.997, 0.001)],
)
def test_batch_norm_has_slims_decay_and_epsilon(name, decay, epsilon):
    with tf.Graph().as_default():
        build(name, ModeKeys.TRAIN, batch_norm_fused=True, batch=4)
        assert_batch_norm_moves_by(decay, epsilon)


# Training normalizes with batch statistics: on 1x1 maps of a batch of 2 each channel has two
# values, and rounding differences grow without bound; 4 images of 64x64 keep 16 values.
TRAINING_BATCH = {"size": 64, "batch": 4, "dropout_keep_prob": 1.0}


@pytest.mark.parametrize("name", ["mobilenet_v1_025", "mobilenet_v2_035"])
def test_fused_and_plain_batch_norm_give_the_same_logits(name):
    plain, values = logits_in(name, "NHWC", run_mode=ModeKeys.TRAIN, **TRAINING_BATCH)
    fused, _ = logits_in(
        name, "NHWC", values, run_mode=ModeKeys.TRAIN, batch_norm_fused=True, **TRAINING_BATCH
    )
    np.testing.assert_allclose(plain, fused, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["mobilenet_v1_025", "mobilenet_v2_035"])
@pytest.mark.parametrize("run_mode", [ModeKeys.EVAL, ModeKeys.TRAIN])
def test_nchw_gives_the_nhwc_logits_with_the_same_weights(name, run_mode):
    # Training normalizes with the batch's statistics, which the fused kernel (the default)
    # sums in another order in each layout: 1e-4 apart after 17 blocks. A wrong channel axis
    # is orders of magnitude further off.
    tolerance = 5e-4 if run_mode == ModeKeys.TRAIN else 1e-4
    testing.check_data_formats(
        name, image_size=64, batch=4, run_mode=run_mode, dropout_keep_prob=1.0,
        rtol=tolerance, atol=tolerance,
    )


def test_nchw_end_points_are_channels_first_and_logits_are_not():
    with tf.Graph().as_default():
        logits, end_points = build("mobilenet_v1_025", data_format="NCHW", spatial_squeeze=False)
    assert end_points["Conv2d_0"].shape.as_list() == [2, 8, 16, 16]
    assert logits.shape.as_list() == [2, 1, 1, 10]


@pytest.mark.parametrize("name", ["mobilenet_v1_025", "mobilenet_v2_035"])
def test_weight_decay_regularizes_the_full_convolutions_not_the_depthwise_ones(name):
    with tf.Graph().as_default():
        build(name, ModeKeys.TRAIN, weight_decay=4e-5)
        regularized = {
            loss.op.name.split("/Regularizer")[0] for loss in tf1.losses.get_regularization_losses()
        }
        variables = [v.op.name for v in tf1.trainable_variables()]
    assert regularized == {name for name in variables if name.endswith("/weights")}
    assert any(name.endswith("/depthwise_weights") for name in variables)


def test_global_pool_gives_one_feature_vector_on_any_input_size():
    with tf.Graph().as_default():
        _, fixed = build("mobilenet_v1_025", size=320, spatial_squeeze=False)
        _, pooled = build("mobilenet_v1_025", size=320, global_pool=True, scope="Pooled")
    assert fixed["AvgPool_1a"].shape.as_list() == [2, 2, 2, 256]  # 10x10 map, 7x7/2 window
    assert pooled["global_pool"].shape.as_list() == [2, 1, 1, 256]
