"""What the tests of this plugin share beyond mox_core.testing: the reference, building at a
small default size, copying weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from mox_core import ModeKeys
from mox_core.testing import build_network
from mox_core.testing import run_graph as run

tf1 = tf.compat.v1

REFERENCE = json.loads(
    (Path(__file__).resolve().parents[3] / "reference" / "slim_nets.json").read_text()
)


def build(name, run_mode=ModeKeys.EVAL, num_classes=10, size=32, batch=2, seed=0, **kwargs):
    """``name`` on a constant batch of ``size`` x ``size`` in the current graph:
    ``(logits, end_points)``."""
    return build_network(name, run_mode, num_classes, image_size=size, batch=batch, seed=seed,
                         **kwargs)


def random_values(seed: int = 0) -> dict[str, np.ndarray]:
    """Initialized values of every variable of the current graph, batch norm ones randomized.

    Freshly initialized batch norms (gamma 1, beta 0, mean 0, variance 1) would treat every
    channel alike and hide a wrong channel axis; random ones do not.
    """
    rng = np.random.default_rng(seed)
    variables = tf1.global_variables()
    with tf1.Session() as sess:
        sess.run(tf1.global_variables_initializer())
        values = dict(zip([v.op.name for v in variables], sess.run(variables)))
    for name, value in values.items():
        kind = name.rsplit("/", 1)[-1]
        if kind in ("gamma", "moving_variance"):
            values[name] = rng.uniform(0.5, 1.5, value.shape).astype(value.dtype)
        elif kind in ("beta", "moving_mean"):
            values[name] = rng.normal(0.0, 0.2, value.shape).astype(value.dtype)
    return values


def assignments(values: dict[str, np.ndarray]) -> list:
    """Assign ops giving the current graph's variables ``values`` (by name)."""
    variables = tf1.global_variables()
    assert sorted(v.op.name for v in variables) == sorted(values)
    return [tf1.assign(v, values[v.op.name]) for v in variables]


def logits_in(name, data_format, values=None, run_mode=ModeKeys.EVAL, **kwargs):
    """Build ``name`` in its own graph in ``data_format`` and run it with ``values`` (or random
    batch-norm values); returns ``(logits, values)``."""
    with tf.Graph().as_default():
        tf1.set_random_seed(0)
        logits, _ = build(name, run_mode, data_format=data_format, **kwargs)
        if values is None:
            values = random_values()
        return run(logits, assignments(values)), values
