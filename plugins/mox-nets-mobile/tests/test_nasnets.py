"""NASNet and PNASNet through ``mox.get_model_fn``: they run, and compute as TF-Slim's do.

``test_reference_nets.py`` checks the variables against TF-Slim's. Here every network runs a
training step on the smallest input its auxiliary head takes; drop-path follows slim's schedule
and exists only in training; and the numerics (NCHW against NHWC, fused batch norm, epsilon and
decay, weight decay) are checked on the same networks with few, thin cells (``config``), which
build in seconds: the cells, stems and heads are the same code.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from mobile_testing import assert_batch_norm_moves_by, build, logits_in, run
from mox_nets_mobile import nasnet_utils

import mox_core as mox
from mox_core import ModeKeys, testing
from mox_core.nets import layers

tf1 = tf.compat.v1

# The smallest inputs whose feature map still is 5x5 at the auxiliary head's 5x5 average pool:
# CIFAR's reduces once before it, ImageNet's stem and first reduction 16 times (67 -> 33 -> 17
# -> 9 -> 5).
SMALLEST_TRAINING_SIZE = {"nasnet_cifar": 9, "nasnet_mobile": 67, "nasnet_large": 67,
                          "pnasnet_mobile": 67, "pnasnet_large": 67}  # fmt: skip

# Three cells (a reduction before the second and the third), thin, dense dropout off: what the
# numerics tests need, built in seconds.
SMALL = {"num_cells": 3, "num_conv_filters": 8, "dense_dropout_keep_prob": 1.0}
SMALL_NETWORKS = {
    "nasnet_cifar": (SMALL, 16),
    "nasnet_mobile": (SMALL, 67),
    "nasnet_large": (SMALL, 67),  # skip_reduction_layer_input: the Large wiring
    "pnasnet_mobile": ({**SMALL, "num_conv_filters": 9}, 67),  # odd widths, as the real one's
}


def small(name, run_mode=ModeKeys.EVAL, **kwargs):
    config, size = SMALL_NETWORKS[name]
    return build(name, run_mode, config=config, size=size, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("name", SMALLEST_TRAINING_SIZE)
def test_a_training_step_with_the_auxiliary_head_is_finite(name):
    with tf.Graph().as_default():
        logits, end_points = build(name, ModeKeys.TRAIN, size=SMALLEST_TRAINING_SIZE[name])
        assert logits.shape.as_list() == end_points["AuxLogits"].shape.as_list() == [2, 10]
        update_ops = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
        values, aux, probabilities, _ = run(
            [logits, end_points["AuxLogits"], end_points["Predictions"], update_ops]
        )
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(aux))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", SMALL_NETWORKS)
def test_small_configurations_run_in_training_mode(name):
    with tf.Graph().as_default():
        logits, end_points = small(name, ModeKeys.TRAIN)
        values, aux = run([logits, end_points["AuxLogits"]])
    assert values.shape == aux.shape == (2, 10)
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(aux))


def test_evaluation_needs_no_auxiliary_head_and_takes_smaller_inputs():
    with tf.Graph().as_default():
        logits, end_points = build("nasnet_mobile", config=SMALL, size=32)
        assert "AuxLogits" not in end_points
        assert run(logits).shape == (2, 10)


def test_drop_path_keep_probability_follows_slims_schedule():
    """Cell ``i`` of ``n`` keeps ``1 - (i + 1) / n * (1 - keep)`` at the end of training and
    moves there linearly with ``current_step / total_training_steps``."""
    cell = nasnet_utils.NasNetANormalCell(8, 0.6, total_num_cells=20, total_training_steps=100)
    cases = {(19, 100): 0.6, (19, 200): 0.6, (19, 50): 0.8, (9, 100): 0.8, (19, 0): 1.0}
    with tf.Graph().as_default():
        ones = tf.ones([20000, 1, 1, 1])
        dropped = {}
        with layers.arg_scope([nasnet_utils.drop_path], is_training=True):
            for (cell_num, step), _ in cases.items():
                cell._cell_num = cell_num
                dropped[cell_num, step] = cell._apply_drop_path(ones, current_step=float(step))
        values = run(dropped)
    for key, keep in cases.items():
        kept = values[key][values[key] != 0]
        np.testing.assert_allclose(kept, 1.0 / keep, rtol=1e-5)  # the kept are scaled up
        assert abs(kept.size / ones.shape[0] - keep) < 0.02, (key, kept.size)


def random_uniform_ops():
    return [op for op in tf1.get_default_graph().get_operations() if op.type == "RandomUniform"]


def test_drop_path_runs_in_training_only_and_only_where_the_config_asks():
    with tf.Graph().as_default():
        small("nasnet_cifar")
        assert random_uniform_ops() == []
    with tf.Graph().as_default():
        small("nasnet_cifar", ModeKeys.TRAIN)
        # Every operation but the identity: 8 per normal cell, 9 per reduction cell.
        assert len(random_uniform_ops()) == 3 * 8 + 2 * 9
    with tf.Graph().as_default():
        small("nasnet_mobile", ModeKeys.TRAIN)  # keep 1.0: no drop-path
        assert random_uniform_ops() == []


def test_drop_path_creates_the_global_step_where_slim_does_or_uses_the_existing_one():
    with tf.Graph().as_default():
        small("nasnet_cifar", ModeKeys.TRAIN)
        steps = [v.op.name for v in tf1.global_variables() if "global_step" in v.op.name]
        assert steps == ["cell_0/comb_iter_0/left/global_step"]  # as slim: see the reference
        assert tf1.train.get_global_step().op.name == steps[0]
    with tf.Graph().as_default():
        global_step = tf1.train.get_or_create_global_step()  # what mox.run does first
        small("nasnet_cifar", ModeKeys.TRAIN)
        steps = [v for v in tf1.global_variables() if "global_step" in v.op.name]
        assert steps == [global_step]


# In training the batch statistics normalize (per channel: a wrong axis shows) and, at step 0,
# drop-path keeps every path. NASNet cells with the Large wiring, and PNASNet's odd widths.
@pytest.mark.parametrize("name", ["nasnet_large", "pnasnet_mobile"])
def test_nchw_gives_the_nhwc_logits_with_the_same_weights(name):
    config, size = SMALL_NETWORKS[name]
    testing.check_data_formats(
        name, image_size=size, batch=4, run_mode=ModeKeys.TRAIN, config=config
    )


def test_fused_and_plain_batch_norm_give_the_same_logits():
    config, size = SMALL_NETWORKS["nasnet_cifar"]
    kwargs = {"run_mode": ModeKeys.TRAIN, "config": config, "size": size, "batch": 4}
    plain, values = logits_in("nasnet_cifar", "NHWC", **kwargs)
    fused, _ = logits_in("nasnet_cifar", "NHWC", values, batch_norm_fused=True, **kwargs)
    np.testing.assert_allclose(plain, fused, rtol=1e-4, atol=1e-4)


def test_the_plain_batch_norm_kernel_uses_the_epsilon_slims_fused_one_does():
    """Slim's CIFAR NASNet asks for epsilon 1e-5 with ``fused=True``, whose kernel raises it to
    1.001e-5; the plain kernel, which adds epsilon to the variance itself, uses 1.001e-5 too."""
    with tf.Graph().as_default():
        small("nasnet_cifar", batch_norm_fused=False)
        added = {
            round(float(tf.get_static_value(op.outputs[0])), 10)
            for op in tf1.get_default_graph().get_operations()
            if op.type == "Const" and op.name.endswith("batchnorm/add/y")
        }
    assert added == {1.001e-5}


@pytest.mark.parametrize(
    "name, decay, epsilon",
    [
        ("nasnet_cifar", 0.9, 1.001e-5),
        ("nasnet_mobile", 0.9997, 0.001),
        ("nasnet_large", 0.9997, 0.001),
        ("pnasnet_mobile", 0.9997, 0.001),
    ],
)
def test_batch_norm_has_slims_decay_and_epsilon(name, decay, epsilon):
    with tf.Graph().as_default():
        small(name, ModeKeys.TRAIN, batch_norm_fused=True, batch=4)
        assert_batch_norm_moves_by(decay, epsilon)


def test_weight_decay_regularizes_every_convolution_and_classifier_kernel():
    with tf.Graph().as_default():
        small("nasnet_mobile", ModeKeys.TRAIN, weight_decay=4e-5)
        regularized = {
            loss.op.name.split("/Regularizer")[0] for loss in tf1.losses.get_regularization_losses()
        }
        variables = [v.op.name for v in tf1.trainable_variables()]
    kernels = {name for name in variables if name.endswith("weights")}
    assert regularized == kernels
    assert {"final_layer/FC/weights", "aux_1/aux_logits/FC/weights"} <= kernels
    assert any(name.endswith("/depthwise_weights") for name in kernels)
    assert not [name for name in variables if name.endswith("biases") and "/FC/" not in name]


def test_config_overrides_are_checked():
    with tf.Graph().as_default(), pytest.raises(ValueError, match="num_celss"):
        mox.get_model_fn("nasnet_cifar", ModeKeys.EVAL, 10, config={"num_celss": 3})(
            tf.zeros([1, 32, 32, 3])
        )
