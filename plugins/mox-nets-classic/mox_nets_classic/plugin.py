"""Registers the classic networks with mox (entry point ``classic`` in group ``mox``).

Only records live here: each builder is a ``"module:function"`` string, so listing networks
imports no network module.
"""

from mox_core.constants import PreprocessingKeys
from mox_core.hookspecs import hookimpl
from mox_core.registry import NetworkSpec


@hookimpl
def mox_networks():
    return [
        NetworkSpec(
            name="lenet",
            builder="mox_nets_classic.lenet:lenet",
            default_image_size=28,
            default_labels_offset=0,
            default_logits_pattern="fc4",  # TF-Slim's LeNet names its logits layer fc4
            preprocessing=PreprocessingKeys.LENET,
            description="LeNet-5 style network of TF-Slim (2 conv + 2 fully connected layers)",
        ),
        NetworkSpec(
            name="cifarnet",
            builder="mox_nets_classic.cifarnet:cifarnet",
            default_image_size=32,
            default_labels_offset=0,
            preprocessing=PreprocessingKeys.CIFARNET,
            description="CifarNet of TF-Slim (2 conv + LRN, 3 fully connected layers)",
        ),
    ]
