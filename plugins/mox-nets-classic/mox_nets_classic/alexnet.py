"""AlexNet v2 as in TF-Slim's ``nets/alexnet.py`` (Krizhevsky 2014, "One weird trick").

Slim's version, not the 2012 paper's: no local response normalization, Xavier-initialized
convolutions (``conv1`` 11x11/4 VALID with 64 filters, ``conv2`` 5x5 with 192, ``conv3``-
``conv5`` 3x3 with 384, 384, 256, all SAME, 3x3/2 VALID max pools after conv1, conv2 and
conv5) and the fully connected layers written as convolutions: ``fc6`` 5x5 VALID with 4096
filters, ``fc7`` 1x1 with 4096, ``fc8`` 1x1 with ``num_classes`` (no activation), dropout
before fc7 and fc8. Variables live under ``alexnet_v2/`` so a TF-Slim checkpoint loads.

Being fully convolutional, the network takes any input of at least 224x224; only 224x224
gives the ``[N, num_classes]`` logits (``spatial_squeeze``). Set ``spatial_squeeze=False`` to
get the ``[N, h, w, num_classes]`` score map of a bigger input, or ``global_pool=True`` to
average fc7 down to 1x1 first.
"""

from __future__ import annotations

import tensorflow as tf

from mox_core.nets import layers
from mox_core.nets.initializers import trunc_normal
from mox_nets_classic.fc_convolutions import fc_conv_arg_scope, fc_conv_builder

tf1 = tf.compat.v1


def alexnet_v2_arg_scope(weight_decay: float = 0.0005) -> dict:
    """TF-Slim's ``alexnet_v2_arg_scope`` (biases 0.1, L2 decay on every weight)."""
    return fc_conv_arg_scope(weight_decay, tf1.constant_initializer(0.1))


def _features(net: tf.Tensor) -> tf.Tensor:
    net = layers.conv2d(net, 64, [11, 11], 4, padding="VALID", scope="conv1")
    net = layers.max_pool2d(net, [3, 3], 2, scope="pool1")
    net = layers.conv2d(net, 192, [5, 5], scope="conv2")
    net = layers.max_pool2d(net, [3, 3], 2, scope="pool2")
    net = layers.conv2d(net, 384, [3, 3], scope="conv3")
    net = layers.conv2d(net, 384, [3, 3], scope="conv4")
    net = layers.conv2d(net, 256, [3, 3], scope="conv5")
    return layers.max_pool2d(net, [3, 3], 2, scope="pool5")


alexnet_v2 = fc_conv_builder(
    "alexnet_v2",
    _features,
    """Build AlexNet v2 on ``images`` (in the arg scope's layout); ``(logits, end_points)``.

    ``end_points`` are keyed as slim's (``alexnet_v2/conv1``, ..., ``alexnet_v2/fc8``) and hold
    tensors in the layers' layout; unsqueezed logits come back in NHWC whatever the layout.
    """,
    fc6_kernel=[5, 5],
    fc6_depth=4096,
    fc_defaults={
        "weights_initializer": trunc_normal(0.005),
        "biases_initializer": tf1.constant_initializer(0.1),
    },
)
