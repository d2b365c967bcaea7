"""How ``get_model_fn`` builds a network from its record: the family's arg scope, the run's
options (layout, training mode, batch-norm switches), the one transpose to ``data_format``.

The networks are tiny ones of a plugin made on disk, built in real graphs.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import mox_core as mox
from mox_core.registry import NetworkSpec, network_family

tf1 = tf.compat.v1

PLUGIN = """
    from mox_core import hookimpl
    from mox_core.registry import NetworkSpec, network_family

    @hookimpl
    def mox_networks():
        return [
            *network_family("fake_tiny", "code:tiny_arg_scope", [
                ("code", "tiny", 8, "one conv + batch norm, 1x1 logits"),
            ], preprocessing="vgg_preprocessing", default_logits_pattern="logits"),
            NetworkSpec(name="legacy", builder="fake_tiny.code:legacy", default_image_size=8),
        ]
"""

CODE = """
    import tensorflow as tf
    from mox_core.nets import heads, layers, net_utils

    tf1 = tf.compat.v1
    SEEN = {}

    def tiny_arg_scope(weight_decay=0.5):
        SEEN["weight_decay"] = weight_decay
        with layers.arg_scope(
            [layers.conv2d],
            weights_regularizer=layers.l2_regularizer(weight_decay),
            normalizer_fn=layers.batch_norm,
            normalizer_params=net_utils.batch_norm_params(0.9, 1e-3),
        ) as sc:
            return sc

    def tiny(images, num_classes=3, *, is_training, spatial_squeeze=True, scope="Tiny"):
        data_format = net_utils.current_data_format()
        SEEN.update(data_format=data_format, input_shape=images.shape.as_list(),
                    is_training=is_training)
        with tf1.variable_scope(scope):
            net = layers.conv2d(images, 4, [3, 3], scope="conv1")
            net = layers.avg_pool2d(net, [8, 8], padding="VALID", scope="pool")
            logits = heads.conv_logits(net, num_classes, data_format,
                                       spatial_squeeze=spatial_squeeze, scope="logits")
        return logits, {"conv1": net, "Logits": logits}

    def legacy(images, num_classes, *, is_training, weight_decay=0.0, data_format="NHWC",
               batch_norm_fused=False, batch_renorm=False):
        SEEN["legacy"] = dict(weight_decay=weight_decay, data_format=data_format,
                              batch_norm_fused=batch_norm_fused, batch_renorm=batch_renorm,
                              input_shape=images.shape.as_list())
        logits = layers.fully_connected(layers.flatten(images), num_classes, scope="legacy")
        return logits, {"Logits": logits}
"""


@pytest.fixture
def tiny(fake_dists):
    fake_dists.root.joinpath("fake_tiny").mkdir()
    fake_dists.add(
        "fake-tiny",
        {"fake_tiny/__init__": "", "fake_tiny/code": CODE, "fake_tiny_plugin": PLUGIN},
        {"tiny": "fake_tiny_plugin"},
    )
    from fake_tiny import code

    return code.SEEN


def test_network_family_makes_records_of_string_targets():
    records = network_family(
        "my_nets", "family:family_arg_scope",
        [("small", "small_a", 32, "A"), ("small", "small_b", 64, "B")],
        preprocessing="vgg_preprocessing",
    )  # fmt: skip
    assert records[1] == NetworkSpec(
        name="small_b", builder="my_nets.small:small_b", default_image_size=64,
        preprocessing="vgg_preprocessing", description="B",
        arg_scope="my_nets.family:family_arg_scope",
    )  # fmt: skip
    assert records[0].recipe is None


def test_the_record_is_what_get_model_meta_and_the_preprocessing_read(tiny):
    assert mox.get_model_meta("tiny") == (8, 0, "logits")
    assert mox.preprocessing.pipeline_for_network("tiny") == "vgg_preprocessing"


@pytest.mark.parametrize(
    ("data_format", "fused", "renorm"),
    [("NHWC", True, False), ("NCHW", False, True), ("NHWC", "default", False)],
)
def test_the_builder_gets_the_arg_scope_the_options_and_images_in_its_layout(
    tiny, data_format, fused, renorm
):
    with tf.Graph().as_default():
        options = {} if fused == "default" else {"batch_norm_fused": fused}
        network_fn = mox.get_model_fn("tiny", mox.ModeKeys.TRAIN, 3, weight_decay=1e-3,
                                      data_format=data_format, batch_renorm=renorm,
                                      preprocess_fn=None, **options)  # fmt: skip
        logits, end_points = network_fn(tf.zeros([2, 8, 8, 5]))
        graph = tf1.get_default_graph()
        op_types = {op.type for op in graph.get_operations()}
        variables = [v.op.name for v in tf1.global_variables()]
        losses = tf1.losses.get_regularization_losses()
        updates = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
    assert tiny["weight_decay"] == 1e-3
    assert tiny["data_format"] == data_format and tiny["is_training"] is True
    channels_first = data_format == "NCHW"
    assert tiny["input_shape"] == ([2, 5, 8, 8] if channels_first else [2, 8, 8, 5])
    assert end_points["conv1"].shape.as_list()[1] == (4 if channels_first else 1)
    assert logits.shape.as_list() == [2, 3]
    assert len(losses) == 2  # conv1 and the logits
    assert updates  # training mode reached the batch norm, and so did the switches:
    # mox's default (None) is the fused kernel, the fastest; False is the unfused ops, as asked
    assert ("FusedBatchNormV3" in op_types) == (fused is not False)
    assert ("Tiny/conv1/BatchNorm/renorm_mean" in variables) == renorm


def test_unsqueezed_logits_are_nhwc_whatever_the_layout(tiny):
    values = {}
    for data_format in ("NHWC", "NCHW"):
        with tf.Graph().as_default():
            tf1.set_random_seed(0)
            network_fn = mox.get_model_fn(
                "tiny",
                mox.ModeKeys.EVAL,
                3,
                data_format=data_format,
                preprocess_fn=None,
                spatial_squeeze=False,
            )
            logits, _ = network_fn(tf.constant(np.ones([1, 8, 8, 2], np.float32)))
            assert logits.shape.as_list() == [1, 1, 1, 3]
            with tf1.Session() as sess:
                sess.run(tf1.global_variables_initializer())
                values[data_format] = sess.run(logits)
    np.testing.assert_allclose(values["NHWC"], values["NCHW"], rtol=1e-5, atol=1e-5)


def test_model_kwargs_are_checked_against_the_builders_own_keywords(tiny):
    with pytest.raises(TypeError, match="takes no argument 'dropout_keep_prob'.*spatial_squeeze"):
        mox.get_model_fn("tiny", mox.ModeKeys.EVAL, 3, dropout_keep_prob=0.5)
    with pytest.raises(TypeError, match="is_training cannot be passed as a model kwarg"):
        mox.get_model_fn("tiny", mox.ModeKeys.EVAL, 3, is_training=True)


def test_a_record_without_arg_scope_gets_the_options_itself_on_nhwc_images(tiny):
    with tf.Graph().as_default():
        network_fn = mox.get_model_fn("legacy", mox.ModeKeys.EVAL, 3, weight_decay=0.25,
                                      data_format="NCHW", batch_norm_fused=True,
                                      preprocess_fn=None)  # fmt: skip
        logits, _ = network_fn(tf.zeros([2, 8, 8, 5]))
    assert tiny["legacy"] == {"weight_decay": 0.25, "data_format": "NCHW",
                              "batch_norm_fused": True, "batch_renorm": False,
                              "input_shape": [2, 8, 8, 5]}  # fmt: skip
    assert logits.shape.as_list() == [2, 3]
