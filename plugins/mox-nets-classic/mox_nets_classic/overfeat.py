"""OverFeat (Sermanet et al., 2014, "fast" model) as in TF-Slim's ``nets/overfeat.py``.

``conv1`` 11x11/4 VALID with 64 filters, ``conv2`` 5x5 VALID with 256, ``conv3``-``conv5``
3x3 SAME with 512, 1024, 1024, 2x2/2 VALID max pools after conv1, conv2 and conv5, then the
fully connected layers as convolutions: ``fc6`` 6x6 VALID with 3072 filters, ``fc7`` 1x1 with
4096, ``fc8`` 1x1 with ``num_classes``, dropout before fc7 and fc8. Weights are Xavier in the
convolutions and truncated normal (stddev 0.005) in fc6-fc8; biases 0 in the convolutions, 0.1
in fc6/fc7 and 0 in fc8, as slim's. Variables live under ``overfeat/``.

The default size is 231x231, the smallest input whose fc6 window covers the last feature map
once (a 1x1 score map); larger inputs give score maps with ``spatial_squeeze=False``.
"""

from __future__ import annotations

import tensorflow as tf

from mox_core.nets import layers
from mox_core.nets.initializers import trunc_normal
from mox_nets_classic.fc_convolutions import fc_conv_arg_scope, fc_conv_builder

tf1 = tf.compat.v1


def overfeat_arg_scope(weight_decay: float = 0.0005) -> dict:
    """TF-Slim's ``overfeat_arg_scope`` (zero biases, L2 decay on every weight)."""
    return fc_conv_arg_scope(weight_decay, tf1.zeros_initializer())


def _features(net: tf.Tensor) -> tf.Tensor:
    net = layers.conv2d(net, 64, [11, 11], 4, padding="VALID", scope="conv1")
    net = layers.max_pool2d(net, [2, 2], scope="pool1")
    net = layers.conv2d(net, 256, [5, 5], padding="VALID", scope="conv2")
    net = layers.max_pool2d(net, [2, 2], scope="pool2")
    net = layers.conv2d(net, 512, [3, 3], scope="conv3")
    net = layers.conv2d(net, 1024, [3, 3], scope="conv4")
    net = layers.conv2d(net, 1024, [3, 3], scope="conv5")
    return layers.max_pool2d(net, [2, 2], scope="pool5")


overfeat = fc_conv_builder(
    "overfeat",
    _features,
    """Build OverFeat on ``images`` (in the arg scope's layout); ``(logits, end_points)``.

    ``end_points`` are keyed as slim's (``overfeat/conv1``, ..., ``overfeat/fc8``) and hold
    tensors in the layers' layout; unsqueezed logits come back in NHWC whatever the layout.
    """,
    fc6_kernel=[6, 6],
    fc6_depth=3072,
    fc_defaults={
        "weights_initializer": trunc_normal(0.005),
        "biases_initializer": tf1.constant_initializer(0.1),
    },
)
