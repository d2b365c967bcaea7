"""mox-nets-classic passes the plugin author's kit (mox_core.testing), as a third party would.

The registration check covers every network (records resolve, meta is sane, pipelines exist);
the full check (build in TRAIN/EVAL, one mox.run step, SavedModel export) runs on the networks
small enough for CI.
"""

from __future__ import annotations

import pytest

from mox_core import testing
from mox_core.constants import NETWORK_NAMES
from mox_core.install_hints import distribution_for_network

DISTRIBUTION = "mox-nets-classic"

# name: end points to expect (TF-Slim's keys: the ResNets spell theirs in lower case)
SMALL = {
    "lenet": ["conv1", "fc3", "Logits", "Predictions"],
    "cifarnet": ["conv1", "fc3", "Logits", "Predictions"],
    "resnet_v1_20": ["global_pool", "predictions", "resnet_v1_20/block3"],
}


def test_every_classic_network_of_the_api_is_registered_and_resolves():
    expected = [n for n in NETWORK_NAMES if distribution_for_network(n) == DISTRIBUTION]
    testing.check_plugin_registrations(DISTRIBUTION, expected={"networks": expected})
    assert set(SMALL) <= set(testing.registered_names(DISTRIBUTION))


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_network_builds_trains_one_step_and_exports(name, tmp_path):
    result = testing.check_network(name, tmp_dir=tmp_path, distribution=DISTRIBUTION,
                                   end_points=SMALL[name])
    assert result.logits.shape == (2, 5)
    assert (tmp_path / name / "1" / "saved_model.pb").is_file()


def test_the_networks_preprocessing_pipelines_give_their_input_in_train_and_eval():
    for name in SMALL:
        testing.check_preprocessing(name, output_size=28)
