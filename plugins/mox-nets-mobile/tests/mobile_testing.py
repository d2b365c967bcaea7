"""What the tests of this plugin share beyond mox_core.testing: the reference, building at a
small default size, copying weights, reading batch norm's settings off a graph."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from mox_core import ModeKeys
from mox_core.testing import build_network, randomized_values
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
            values = randomized_values()
        return run(logits, assignments(values)), values


def assert_batch_norm_moves_by(decay: float, epsilon: float) -> None:
    """Every fused batch norm of the current graph uses ``epsilon``, and one training step moves
    the first one's ``moving_mean`` from 0 by ``1 - decay`` of the way to the batch mean."""
    fused = [op for op in tf1.get_default_graph().get_operations() if op.type == "FusedBatchNormV3"]
    assert {round(op.get_attr("epsilon"), 10) for op in fused} == {epsilon}
    first = fused[0]
    # Ops may be named MobilenetV1/MobilenetV1/..., variables MobilenetV1/... (as in slim).
    name = first.name.rsplit("/", 1)[0] + "/moving_mean"
    (moving_mean,) = [v for v in tf1.global_variables() if f"/{name}".endswith(f"/{v.op.name}")]
    with tf1.Session() as sess:
        sess.run(tf1.global_variables_initializer())
        batch_mean, _ = sess.run([first.outputs[1], tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)])
        moved = sess.run(moving_mean)
    np.testing.assert_allclose(moved, (1 - decay) * batch_mean, rtol=1e-3, atol=1e-8)
