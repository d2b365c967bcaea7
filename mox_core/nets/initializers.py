"""The weight initializers TF-Slim's networks use, defined once for every family.

Slim's nets each define ``trunc_normal = lambda stddev: truncated_normal_initializer(0.0,
stddev)`` and call ``variance_scaling_initializer()`` in their arg scopes; the ported families
(both network plugins) take them from here.
"""

from __future__ import annotations

import tensorflow as tf

tf1 = tf.compat.v1


def trunc_normal(stddev: float, mean: float = 0.0):
    """A truncated normal initializer (values beyond two standard deviations are redrawn)."""
    return tf1.truncated_normal_initializer(mean, stddev)


def variance_scaling():
    """Slim's ``variance_scaling_initializer()``: He's truncated normal, variance 2 / fan_in."""
    return tf1.variance_scaling_initializer(
        scale=2.0, mode="fan_in", distribution="truncated_normal"
    )
