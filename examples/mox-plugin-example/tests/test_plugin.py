"""The example plugin's own tests: mox_core.testing checks each registration as mox uses it."""

from __future__ import annotations

import pytest

import mox_core as mox
from mox_core import testing

DISTRIBUTION = "mox-plugin-example"


def test_the_plugin_is_found_with_its_name_version_and_registrations():
    info = testing.plugin_info(DISTRIBUTION)
    assert (info.name, info.module, info.version) == ("example", "mox_plugin_example.plugin",
                                                      "0.1.0")
    registered = testing.check_plugin_registrations(DISTRIBUTION, expected={
        "networks": ["tiny_convnet"],
        "preprocessing": ["tiny_preprocessing"],
        "optimizers": ["nesterov"],
    })
    assert registered["networks"] == ["tiny_convnet"]


@pytest.mark.parametrize("name", testing.registered_names(DISTRIBUTION, "networks"))
def test_network_builds_trains_one_step_and_exports(name, tmp_path):
    result = testing.check_network(name, tmp_dir=tmp_path, distribution=DISTRIBUTION,
                                   end_points=["conv1", "conv2", "Logits", "Predictions"])
    assert result.logits.shape == (2, 5)
    assert "TinyConvNet/conv1/BatchNorm/moving_mean" in result.variables
    assert (tmp_path / name / "1" / "saved_model.pb").is_file()


def test_network_takes_its_own_arguments_and_computes_alike_in_nchw():
    result = testing.check_network("tiny_convnet", image_size=16, train=False,
                                   model_kwargs={"width": 4})
    assert "TinyConvNet/conv2/weights" in result.variables
    testing.check_data_formats("tiny_convnet", image_size=16, width=4)
    with pytest.raises(TypeError, match="network 'tiny_convnet' takes no argument 'depth'"):
        mox.get_model_fn("tiny_convnet", "TRAIN", 10, depth=3)


@pytest.mark.parametrize("name", testing.registered_names(DISTRIBUTION, "preprocessing"))
def test_preprocessing_gives_the_network_input_in_train_and_eval(name):
    outputs = testing.check_preprocessing(name, output_size=(20, 24), input_shape=(30, 40, 3))
    for image in outputs.values():
        assert image.min() >= -1.0 and image.max() <= 1.0
    # The network names the pipeline, so the network's name selects it too.
    testing.check_preprocessing("tiny_convnet", output_size=32, modes=["EVAL"])


def test_preprocessing_refuses_a_missing_size_naming_itself():
    with pytest.raises(ValueError, match="tiny_preprocessing needs output_height"):
        mox.get_data_augmentation_fn("tiny_preprocessing", "TRAIN")


@pytest.mark.parametrize("name", testing.registered_names(DISTRIBUTION, "optimizers"))
def test_optimizer_applies_an_update(name):
    testing.check_optimizer(name, 0.1)
    testing.check_optimizer(name, 0.1, momentum=0.5, steps=3)


def test_optimizer_arguments_are_checked_when_it_is_chosen():
    with pytest.raises(ValueError, match="optimizer 'nesterov' got an unexpected argument 'mom'"):
        mox.get_optimizer_fn("nesterov", 0.1, mom=0.9)
