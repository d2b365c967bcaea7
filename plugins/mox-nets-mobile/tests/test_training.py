"""The networks train through ``mox.run``: a few steps on a learnable toy task lower the loss.

Tiny images keep it quick: MobileNet v1 0.25 at 32x32 (its 1x1 final map), NASNet-A CIFAR at
16x16 (its auxiliary head needs at least 9x9), both in training mode with batch-norm updates,
dropout, drop-path and NASNet's auxiliary loss, as a user's run would have them.
"""

from __future__ import annotations

import pytest

from mox_core.testing import check_learns


def test_mobilenet_v1_025_learns_a_toy_task_through_mox_run(tmp_path):
    check_learns("mobilenet_v1_025", image_size=32, steps=20, batch_size=16, examples=64,
                 tmp_dir=tmp_path)


@pytest.mark.slow
def test_nasnet_cifar_learns_a_toy_task_through_mox_run(tmp_path):
    # Slim's recipe weighs the auxiliary head's loss by 0.4. Plain SGD: Adam's two slots per
    # variable would triple NASNet's 1400 variables, which TensorFlow creates slowly.
    check_learns("nasnet_cifar", image_size=16, steps=8, batch_size=16, examples=64,
                 aux_logits_weight=0.4, optimizer="sgd", learning_rate=0.01, tmp_dir=tmp_path)
