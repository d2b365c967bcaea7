"""The ResNet family (v1, v2, ResNeXt) through ``mox.get_model_fn``.

TF-Slim's own networks are checked variable for variable by ``test_reference_nets.py``; here:
the papers' parameter counts for the networks TF-Slim lacks, a forward pass of every network,
and that the ``get_model_fn`` arguments (run mode, data format, fused batch norm, batch
renormalization, weight decay) reach every layer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from mox_nets_classic import resnet_utils, resnet_v1, resnet_v2, resnext

import mox_core as mox
from mox_core import ModeKeys
from mox_core.nets import layers, net_utils

tf1 = tf.compat.v1

REFERENCE = json.loads(
    (Path(__file__).resolve().parents[3] / "reference" / "slim_nets.json").read_text()
)

FAST = ["resnet_v1_18", "resnet_v1_20"]
SLOW = ["resnet_v1_110", "resnet_v1_50", "resnet_v1_50_8k", "resnet_v1_101", "resnet_v1_152",
        "resnet_v1_200", "resnet_v2_50", "resnet_v2_101", "resnet_v2_152", "resnet_v2_200",
        "resnext_b_50", "resnext_b_101", "resnext_c_50", "resnext_c_101"]  # fmt: skip


def images(batch, size, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, size, size, 3)).astype(np.float32)


def num_params(variables):
    return sum(int(np.prod(v.shape.as_list())) for v in variables)


def build(name, run_mode=ModeKeys.EVAL, num_classes=10, size=None, batch=2, **kwargs):
    """Build ``name`` on a constant batch; small inputs (64x64) for the ImageNet networks."""
    size = size or min(64, mox.get_model_meta(name).default_image_size)
    network_fn = mox.get_model_fn(name, run_mode, num_classes, preprocess_fn=None, **kwargs)
    return network_fn(tf.constant(images(batch, size)))


def run(fetches, assignments=()):
    with tf1.Session() as sess:
        sess.run(tf1.global_variables_initializer())
        sess.run(list(assignments))
        return sess.run(fetches)


def copy_variables(source_scope, target_scope):
    """Assign ops giving the network under ``target_scope`` the weights of ``source_scope``."""
    sources = tf1.global_variables(source_scope + "/")
    targets = tf1.global_variables(target_scope + "/")
    assert [v.op.name.split("/", 1)[1] for v in sources] == [
        v.op.name.split("/", 1)[1] for v in targets
    ]
    return [tf1.assign(target, source) for source, target in zip(sources, targets)]


# --------------------------------------------------------------------------------------------
# registrations and the papers' parameter counts


def test_the_family_is_registered_with_its_meta():
    for name in FAST + SLOW:
        imagenet = not name.endswith(("_20", "_110"))
        assert mox.get_model_meta(name) == ((224, 1, "logits") if imagenet else (32, 0, "logits"))
    assert mox.list_networks("resnext*") == [
        "resnext_b_50", "resnext_b_101", "resnext_c_50", "resnext_c_101"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "name, num_classes, millions",
    [
        ("resnet_v1_18", 1000, 11.7),  # ResNet paper, Table 1 / torchvision: 11.69M
        ("resnet_v1_20", 10, 0.27),  # ResNet paper, Table 6
        pytest.param("resnet_v1_110", 10, 1.7, marks=pytest.mark.slow),  # Table 6
        ("resnext_c_50", 1000, 25.0),  # ResNeXt paper, Table 1
        pytest.param("resnext_b_50", 1000, 25.0, marks=pytest.mark.slow),  # the same function
    ],
)
def test_parameter_counts_match_the_papers(name, num_classes, millions):
    with tf.Graph().as_default():
        size = mox.get_model_meta(name).default_image_size
        mox.get_model_fn(name, ModeKeys.EVAL, num_classes, preprocess_fn=None)(
            tf1.placeholder(tf.float32, [1, size, size, 3])
        )
        count = num_params(tf1.trainable_variables())
    decimals = 2 if millions < 1 else 1
    assert round(count / 1e6, decimals) == millions, count


def unit_outputs(unit_fn, inputs, data_format="NHWC", scope=None, **unit_args):
    """One residual unit (or the stem) in training mode, in ``data_format``, as NHWC."""
    options = net_utils.options_scope(
        is_training=True, data_format=data_format, batch_norm_fused=False, batch_renorm=False
    )
    with layers.arg_scope(resnet_utils.resnet_arg_scope(0.0)), options:
        with tf1.variable_scope(scope, "unit"):
            net = unit_fn(net_utils.to_data_format(inputs, data_format), data_format=data_format,
                          **unit_args)  # fmt: skip
    return net_utils.to_nhwc(net, data_format)


def test_resnext_form_b_computes_form_c_with_the_grouped_weights_sliced_into_paths():
    unit = {"depth": 32, "depth_bottleneck": 16, "cardinality": 4, "stride": 2}
    with tf.Graph().as_default():
        inputs = tf.constant(np.random.default_rng(0).standard_normal((2, 9, 9, 8)), tf.float32)
        c = unit_outputs(resnext.bottleneck, inputs, scope="C", form="c", **unit)
        b = unit_outputs(resnext.bottleneck, inputs, scope="B", form="b", **unit)
        c_vars = {v.op.name.split("/", 2)[2]: v for v in tf1.global_variables("C/")}
        assignments = []
        for variable in tf1.global_variables("B/"):
            name = variable.op.name.split("/", 2)[2]
            path = re.fullmatch(r"conv2/path_(\d+)/weights", name)
            if path:
                width = variable.shape[-1]
                start = (int(path.group(1)) - 1) * width
                grouped = c_vars["conv2/weights"][..., start : start + width]
                assignments.append(tf1.assign(variable, grouped))
            else:
                assignments.append(tf1.assign(variable, c_vars[name]))
        assert num_params(tf1.trainable_variables("B/")) == num_params(
            tf1.trainable_variables("C/")
        )
        b_outputs, c_outputs = run([b, c], assignments)
    np.testing.assert_allclose(b_outputs, c_outputs, rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------------------------
# every network runs


def _forward(name):
    with tf.Graph().as_default():
        logits, end_points = build(name, ModeKeys.TRAIN)
        assert logits.shape.as_list() == [2, 10]
        update_ops = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
        values, probabilities, _ = run([logits, end_points["predictions"], update_ops])
    assert np.all(np.isfinite(values))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", FAST)
def test_forward_pass_in_training_mode_is_finite(name):
    _forward(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_forward_pass_of_the_bigger_networks_is_finite(name):
    _forward(name)


def test_end_points_of_the_paper_networks_follow_slims_naming():
    with tf.Graph().as_default():
        logits, end_points = build("resnet_v1_18")
        shapes = {key: end_points[key].shape.as_list() for key in end_points}
    assert shapes["resnet_v1_18/conv1"] == [2, 32, 32, 64]
    assert shapes["resnet_v1_18/block1"] == [2, 16, 16, 64]  # the paper: no stride in conv2_x
    assert shapes["resnet_v1_18/block2/unit_1/basic_v1/shortcut"] == [2, 8, 8, 128]
    assert shapes["resnet_v1_18/block4"] == [2, 2, 2, 512]
    assert shapes["global_pool"] == [2, 1, 1, 512]
    assert shapes["resnet_v1_18/spatial_squeeze"] == [2, 10]
    assert logits.op.name == "resnet_v1_18/SpatialSqueeze"


def test_cifar_resnets_use_parameter_free_shortcuts():
    with tf.Graph().as_default():
        _, end_points = build("resnet_v1_20")
        variables = [v.op.name for v in tf1.global_variables()]
    assert not [name for name in variables if "shortcut" in name]
    assert end_points["resnet_v1_20/block1"].shape.as_list() == [2, 32, 32, 16]
    assert end_points["resnet_v1_20/block2"].shape.as_list() == [2, 16, 16, 32]
    assert end_points["resnet_v1_20/block3"].shape.as_list() == [2, 8, 8, 64]
    assert sum("weights" in name for name in variables) == 20  # 19 convolutions + the logits


def test_output_stride_keeps_the_features_dense():
    with tf.Graph().as_default():
        _, end_points = build("resnet_v1_18", output_stride=16)
    assert end_points["resnet_v1_18/block4"].shape.as_list() == [2, 4, 4, 512]


def test_logits_pattern_selects_exactly_the_classifier():
    with tf.Graph().as_default():
        build("resnet_v1_18")
        pattern = mox.get_model_meta("resnet_v1_18").default_logits_pattern
        matching = [v.op.name for v in tf1.global_variables() if pattern in v.op.name]
    assert matching == ["resnet_v1_18/logits/weights", "resnet_v1_18/logits/biases"]


# --------------------------------------------------------------------------------------------
# the get_model_fn arguments


def test_training_mode_queues_moving_average_updates_and_inference_none():
    with tf.Graph().as_default():
        build("resnet_v1_20", ModeKeys.TRAIN)
        batch_norms = {v.op.name.rsplit("/", 1)[0] for v in tf1.moving_average_variables()}
        assert len(batch_norms) == 19
        assert len(tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)) == 2 * 19
    with tf.Graph().as_default():
        build("resnet_v1_20", ModeKeys.EVAL)
        assert tf1.get_collection(tf1.GraphKeys.UPDATE_OPS) == []


def test_a_few_sgd_steps_with_batch_norm_updates_lower_the_loss():
    with tf.Graph().as_default():
        tf1.set_random_seed(0)
        logits, _ = build("resnet_v1_20", ModeKeys.TRAIN, num_classes=3, size=16, batch=6)
        labels = tf.constant([0, 1, 2, 0, 1, 2])
        loss = tf1.losses.sparse_softmax_cross_entropy(labels, logits)
        with tf.control_dependencies(tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)):
            train_op = tf1.train.MomentumOptimizer(0.05, 0.9).minimize(loss)
        moving_mean = tf1.moving_average_variables()[0]
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            losses = [sess.run([loss, train_op])[0] for _ in range(4)]
            assert np.any(sess.run(moving_mean) != 0.0)
    assert losses[-1] < 0.5 * losses[0], losses


UNITS = {
    "imagenet stem": (resnet_utils.imagenet_root, {}),
    "v1 bottleneck": (resnet_v1.bottleneck, {"depth": 32, "depth_bottleneck": 8, "stride": 2}),
    "v1 basic, option A": (resnet_v1.basic, {"depth": 16, "stride": 2, "shortcut_type": "zero_pad"}),
    "v2 bottleneck": (resnet_v2.bottleneck, {"depth": 32, "depth_bottleneck": 8, "stride": 2}),
    "resnext b": (resnext.bottleneck, {"depth": 32, "depth_bottleneck": 16, "cardinality": 4,
                                       "stride": 2, "form": "b"}),
    "resnext c": (resnext.bottleneck, {"depth": 32, "depth_bottleneck": 16, "cardinality": 4,
                                       "stride": 2, "form": "c"}),
}  # fmt: skip


@pytest.mark.parametrize("unit", UNITS)
def test_every_unit_computes_the_same_in_nchw(unit):
    unit_fn, unit_args = UNITS[unit]
    with tf.Graph().as_default():
        inputs = tf.constant(images(2, 9).repeat(3, axis=-1)[..., :8])  # odd size, 8 channels
        nhwc = unit_outputs(unit_fn, inputs, scope="A", **unit_args)
        nchw = unit_outputs(unit_fn, inputs, data_format="NCHW", scope="B", **unit_args)
        a, b = run([nhwc, nchw], copy_variables("A", "B"))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "name", ["resnet_v1_20", pytest.param("resnet_v2_50", marks=pytest.mark.slow)]
)
def test_nchw_gives_the_nhwc_logits_with_the_same_weights(name):
    size = 32 if name == "resnet_v1_20" else 96  # batch statistics of many values per channel
    with tf.Graph().as_default():
        nhwc, _ = build(name, ModeKeys.TRAIN, size=size, scope="A")
        nchw, end_points = build(name, ModeKeys.TRAIN, size=size, scope="B", data_format="NCHW")
        assert end_points["B/conv1"].shape.as_list()[1] in (16, 64)  # channels first
        a, b = run([nhwc, nchw], copy_variables("A", "B"))
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)


def test_fused_batch_norm_gives_the_same_logits_and_moving_statistics():
    results = []
    for fused in (False, True):
        with tf.Graph().as_default():
            tf1.set_random_seed(0)
            logits, _ = build("resnet_v1_20", ModeKeys.TRAIN, batch_norm_fused=fused)
            update_ops = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
            op_types = {op.type for op in tf1.get_default_graph().get_operations()}
            assert ("FusedBatchNormV3" in op_types) == fused
            results.append(run([logits, update_ops]))
    (logits_a, updates_a), (logits_b, updates_b) = results
    np.testing.assert_allclose(logits_a, logits_b, rtol=1e-4, atol=1e-4)
    for a, b in zip(updates_a, updates_b):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def _batch_norms_with_renorm_variables():
    variables = [v.op.name for v in tf1.global_variables()]
    gammas = [name.rsplit("/", 1)[0] for name in variables if name.endswith("/gamma")]
    renorm = [name.rsplit("/", 1)[0] for name in variables if name.endswith("/renorm_mean")]
    return gammas, renorm


def test_batch_renorm_reaches_every_batch_norm():
    with tf.Graph().as_default():
        build("resnet_v1_20", batch_renorm=True)
        gammas, renorm = _batch_norms_with_renorm_variables()
        assert len(gammas) == 19 and renorm == gammas
    with tf.Graph().as_default():  # also the batch norms outside convolutions: v2's
        blocks = [resnet_v2.resnet_v2_block("block1", 4, 2, 2)]
        options = net_utils.options_scope(
            is_training=True, data_format="NHWC", batch_norm_fused=False, batch_renorm=True
        )
        with layers.arg_scope(resnet_utils.resnet_arg_scope()), options:
            resnet_v2.resnet_v2(tf.zeros([2, 32, 32, 3]), blocks, 10, scope="net")
        gammas, renorm = _batch_norms_with_renorm_variables()
        assert {"net/postnorm", "net/block1/unit_2/bottleneck_v2/preact"} <= set(gammas)
        assert renorm == gammas


def test_weight_decay_regularizes_every_convolution_and_no_batch_norm():
    with tf.Graph().as_default():
        build("resnet_v1_18", ModeKeys.TRAIN, weight_decay=1e-4)
        regularized = {
            loss.op.name.split("/Regularizer")[0] for loss in tf1.losses.get_regularization_losses()
        }
        weights = {v.op.name for v in tf1.trainable_variables() if v.op.name.endswith("weights")}
    assert regularized == weights
    assert "resnet_v1_18/logits/weights" in regularized  # slim decays the logits too


def test_resnet_v1_50_8k_is_resnet_v1_50_with_zero_last_gammas():
    reference = [(v["name"], v["shape"]) for v in REFERENCE["resnet_v1_50"]["variables"]]
    with tf.Graph().as_default():
        mox.get_model_fn("resnet_v1_50_8k", ModeKeys.EVAL, 1000, preprocess_fn=None)(
            tf1.placeholder(tf.float32, [None, 224, 224, 3])
        )
        variables = tf1.global_variables()
        assert [(v.op.name, v.shape.as_list()) for v in variables] == reference
        gammas = [v for v in variables if v.op.name.endswith("gamma")]
        with tf1.Session() as sess:
            sess.run(tf1.variables_initializer(gammas))
            values = dict(zip([v.op.name for v in gammas], sess.run(gammas)))
    last = {name for name in values if name.endswith("/conv3/BatchNorm/gamma")}
    assert len(last) == 16  # one per residual block
    for name, value in values.items():
        np.testing.assert_array_equal(value, 0.0 if name in last else 1.0, err_msg=name)
