"""``nesterov``: momentum with Nesterov's look-ahead, a name the built-in optimizers lack.

``get_optimizer_fn('nesterov', 0.1)`` or ``get_optimizer_fn('nesterov', 0.1, momentum=0.95)``.
A factory takes the learning rate first and ``name=None`` (mox passes ``scope`` as ``name``);
mox checks the other arguments against this signature when ``get_optimizer_fn`` is called.
"""

from __future__ import annotations

import tensorflow as tf


def nesterov(learning_rate, momentum: float = 0.9, use_locking: bool = False,
             name: str | None = None):
    """A ``tf.compat.v1.train.MomentumOptimizer`` with ``use_nesterov=True``."""
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"optimizer 'nesterov': momentum must be in [0, 1), got {momentum!r}")
    return tf.compat.v1.train.MomentumOptimizer(
        learning_rate, momentum, use_locking=use_locking, name=name or "Nesterov",
        use_nesterov=True,
    )
