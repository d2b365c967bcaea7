"""Building blocks for a plugin's own numeric tests: random inputs, a network built on them,
a graph run in a fresh session, variables given values that expose layout bugs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mox_core.constants import ModeKeys
from mox_core.testing._common import tf


def random_images(batch: int, size: int | Sequence[int], channels: int = 3,
                  seed: int = 0) -> np.ndarray:
    """A float32 NHWC batch of standard normal pixels; ``size`` is an int or ``(h, w)``."""
    height, width = (size, size) if isinstance(size, int) else size
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, height, width, channels)).astype(np.float32)


def build_network(name: str, run_mode: str = ModeKeys.EVAL, num_classes: int = 10,
                  image_size: int | None = None, batch: int = 2, seed: int = 0, **kwargs: Any):
    """Build ``name`` on a constant random batch in the current graph: ``(logits, end_points)``.

    ``image_size`` defaults to the network's ``default_image_size``; ``kwargs`` go to
    ``mox.get_model_fn`` (e.g. ``data_format``, ``scope``, model kwargs). No preprocessing.
    ``seed`` draws the images and, as the graph's seed, the initial weights: a check that
    compares two builds numerically sees the same draw every run.
    """
    from mox_core.nets import get_model_fn, get_model_meta

    tf().compat.v1.set_random_seed(seed)
    size = image_size or get_model_meta(name).default_image_size
    network_fn = get_model_fn(name, run_mode, num_classes, preprocess_fn=None, **kwargs)
    return network_fn(tf().constant(random_images(batch, size, seed=seed)))


def run_graph(fetches: Any, assignments: Sequence[Any] = (), feed_dict: Any = None) -> Any:
    """Initialize the current graph's variables, run ``assignments``, then return ``fetches``."""
    tf1 = tf().compat.v1
    with tf1.Session() as session:
        session.run([tf1.global_variables_initializer(), tf1.local_variables_initializer()])
        if assignments:
            session.run(list(assignments))
        return session.run(fetches, feed_dict)


def randomized_values(seed: int = 0) -> dict[str, np.ndarray]:
    """Initial values of the current graph's variables, batch-norm statistics randomized.

    Freshly initialized batch norms (gamma 1, beta 0, mean 0, variance 1) treat every channel
    alike and would hide a wrong channel axis; random ones do not.
    """
    tf1 = tf().compat.v1
    rng = np.random.default_rng(seed)
    variables = tf1.global_variables()
    values = dict(zip([v.op.name for v in variables], run_graph(variables)))
    for key, value in values.items():
        kind = key.rsplit("/", 1)[-1]
        if kind in ("gamma", "moving_variance"):
            values[key] = rng.uniform(0.5, 1.5, value.shape).astype(value.dtype)
        elif kind in ("beta", "moving_mean"):
            values[key] = rng.normal(0.0, 0.2, value.shape).astype(value.dtype)
    return values
