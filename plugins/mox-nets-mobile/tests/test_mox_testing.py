"""mox-nets-mobile passes the plugin author's kit (mox_core.testing), as a third party would.

The registration check covers every network; the full check (build in TRAIN/EVAL, one mox.run
step, SavedModel export) runs on the smallest MobileNet v1 at 32x32, where it reduces to a 1x1
final map (global pooling makes any size work), and the build checks on the smallest MobileNet
v2 (its training step through mox.run takes about a minute on two CPU cores).
"""

from __future__ import annotations

from mox_core import testing
from mox_core.constants import NETWORK_NAMES
from mox_core.install_hints import distribution_for_network

DISTRIBUTION = "mox-nets-mobile"



def test_every_mobile_network_of_the_api_is_registered_and_resolves():
    expected = [n for n in NETWORK_NAMES if distribution_for_network(n) == DISTRIBUTION]
    testing.check_plugin_registrations(DISTRIBUTION, expected={"networks": expected})


def test_the_smallest_mobilenet_v1_builds_trains_one_step_and_exports(tmp_path):
    result = testing.check_network("mobilenet_v1_025", image_size=32, tmp_dir=tmp_path,
                                   distribution=DISTRIBUTION, end_points=["Predictions"])
    assert result.logits.shape == (2, 5)
    assert (tmp_path / "mobilenet_v1_025" / "1" / "saved_model.pb").is_file()


def test_the_smallest_mobilenet_v2_builds_in_train_and_eval_mode():
    result = testing.check_network("mobilenet_v2_035", image_size=32, train=False,
                                   distribution=DISTRIBUTION, end_points=["Predictions"])
    assert "MobilenetV2/Logits/Conv2d_1c_1x1/weights" in result.variables


def test_the_networks_preprocessing_pipeline_gives_their_input_in_train_and_eval():
    testing.check_preprocessing("mobilenet_v1_025", output_size=32)
