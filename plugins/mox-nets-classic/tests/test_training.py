"""A small network of each classic family trains through ``mox.run``: the loss goes down.

The toy task: noise images, half of them with a fixed pattern added; which half is the label.
Every network runs in training mode (batch-norm updates, dropout) as a user's run would have
it, on inputs as small as its architecture allows: Inception v1 pools globally on 64x64
(``global_pool=True``); the ResNets, ResNeXt and PVANet pool globally anyway.

AlexNet/OverFeat and VGG are not here: their fully connected layers (50M and 120M parameters,
whatever the input size) make a few training steps take minutes on a CI machine's CPUs. Their
forward passes are tested in ``test_vgg_inception_families.py``.
"""

from __future__ import annotations

import pytest

from mox_core.testing import check_learns


def slow(*values):
    return pytest.param(*values, marks=pytest.mark.slow)


@pytest.mark.parametrize(
    "name, size, steps, learning_rate, kwargs",
    [
        ("cifarnet", 32, 30, 0.01, {}),
        ("resnet_v1_20", 32, 8, 0.05, {}),
        slow("inception_v1", 64, 8, 0.01, {"global_pool": True}),
        slow("resnet_v2_50", 32, 8, 0.01, {}),
        slow("resnext_c_50", 32, 8, 0.01, {}),
        slow("pvanet", 32, 8, 0.01, {}),
    ],
)
def test_a_small_network_of_each_family_learns_a_toy_task_through_mox_run(
    name, size, steps, learning_rate, kwargs, tmp_path
):
    check_learns(name, image_size=size, steps=steps, optimizer="momentum",
                 learning_rate=learning_rate, optimizer_kwargs={"momentum": 0.9},
                 tmp_dir=tmp_path, **kwargs)
