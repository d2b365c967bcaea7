"""mox_core.testing, the plugin author's kit, on small plugins made on disk.

Each check must pass a correct plugin and fail a broken one with a message naming the plugin's
distribution and what is wrong.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from mox_core import testing

PLUGIN = """
    from mox_core import hookimpl
    from mox_core.registry import NetworkSpec, OptimizerSpec, PreprocessingSpec

    @hookimpl
    def mox_networks():
        return [
            NetworkSpec(name="fake_dense", builder="fake_code:dense", default_image_size=8,
                        default_logits_pattern="Dense/logits", preprocessing="fake_pipeline"),
            NetworkSpec(name="fake_wrong_pattern", builder="fake_code:dense",
                        default_image_size=8, default_logits_pattern="classifier"),
            NetworkSpec(name="fake_eval_only_variable", builder="fake_code:eval_extra",
                        default_image_size=8, default_logits_pattern="logits"),
            NetworkSpec(name="fake_bad_shape", builder="fake_code:bad_shape",
                        default_image_size=8, default_logits_pattern="logits"),
        ]

    @hookimpl
    def mox_preprocessing():
        return [PreprocessingSpec(name="fake_pipeline", factory="fake_code:pipeline"),
                PreprocessingSpec(name="fake_unsized_pipeline", factory="fake_code:unsized")]

    @hookimpl
    def mox_optimizers():
        return [OptimizerSpec(name="fake_ascent", factory="fake_code:ascent")]
"""

CODE = """
    import tensorflow as tf
    from mox_core.nets import layers

    tf1 = tf.compat.v1

    def dense(images, num_classes, *, is_training, weight_decay=0.0, data_format="NHWC",
              batch_norm_fused=False, batch_renorm=False):
        with tf1.variable_scope("Dense"):
            net = layers.flatten(images)
            net = layers.fully_connected(net, 16, scope="hidden")
            logits = layers.fully_connected(net, num_classes, activation_fn=None, scope="logits")
        return logits, {"Logits": logits, "Predictions": tf.nn.softmax(logits)}

    def eval_extra(images, num_classes, *, is_training, **contract):
        logits, end_points = dense(images, num_classes, is_training=is_training)
        if not is_training:
            tf1.get_variable("eval_only", [1])
        return logits, end_points

    def bad_shape(images, num_classes, *, is_training, **contract):
        logits, end_points = dense(images, num_classes, is_training=is_training)
        return tf.reshape(logits, [-1]), end_points

    def pipeline(run_mode, output_height=None, output_width=None):
        def preprocess(image):
            image = tf.image.resize(tf.cast(image, tf.float32), [output_height, output_width])
            return image / 127.5 - 1.0
        return preprocess

    def unsized(run_mode, output_height=None, output_width=None):
        return lambda image: tf.cast(image, tf.float32)

    def ascent(learning_rate, name=None):
        return tf1.train.GradientDescentOptimizer(-learning_rate)
"""


@pytest.fixture
def fake_plugin(fake_dists):
    fake_dists.add("fake-kit", {"fake_kit_plugin": PLUGIN, "fake_code": CODE},
                   {"kit": "fake_kit_plugin"}, version="0.3")
    return "fake-kit"


def test_registrations_of_a_plugin_are_found_and_checked(fake_plugin):
    assert testing.plugin_info(fake_plugin).version == "0.3"
    found = testing.check_plugin_registrations(fake_plugin)
    assert found["optimizers"] == ["fake_ascent"]
    assert testing.registered_names(fake_plugin, "networks", "fake_*pattern") == [
        "fake_wrong_pattern"]
    with pytest.raises(AssertionError) as info:
        testing.check_plugin_registrations(fake_plugin, expected={"networks": ["fake_dense"],
                                                                  "optimizers": ["fake_sgd"]})
    message = str(info.value)
    assert "distribution 'fake-kit' does not register what was expected" in message
    assert "networks registered but not expected: fake_bad_shape" in message
    assert "optimizers expected but not registered: fake_sgd" in message
    assert "preprocessing registered but not expected: fake_pipeline" in message


def test_a_missing_or_broken_plugin_is_reported_by_name(fake_dists):
    with pytest.raises(AssertionError, match="distribution 'fake-absent' is not installed"):
        testing.plugin_info("fake-absent")
    fake_dists.add("fake-broken", {"fake_broken_plugin": "import fake_nowhere"},
                   {"broken": "fake_broken_plugin"})
    with pytest.warns(UserWarning, match="failed to load"), pytest.raises(
        AssertionError, match=r"plugin 'broken' of distribution 'fake-broken' \(fake_broken_plugin"
        r"\) failed to load: ModuleNotFoundError: No module named 'fake_nowhere'"
    ):
        testing.plugin_info("fake-broken")


def test_a_record_pointing_at_missing_code_fails_the_registration_check(fake_dists):
    plugin = PLUGIN.replace("fake_code:ascent", "fake_code:descent")
    fake_dists.add("fake-kit", {"fake_kit_plugin": plugin, "fake_code": CODE},
                   {"kit": "fake_kit_plugin"})
    with pytest.raises(AssertionError, match=r"optimizer 'fake_ascent' of distribution "
                       r"'fake-kit': its factory 'fake_code:descent' cannot be loaded"):
        testing.check_plugin_registrations("fake-kit")


def test_a_network_whose_arg_scope_is_missing_fails_the_registration_check(fake_dists):
    plugin = PLUGIN.replace('default_logits_pattern="classifier"',
                            'default_logits_pattern="classifier", arg_scope="fake_code:scope"')
    fake_dists.add("fake-kit", {"fake_kit_plugin": plugin, "fake_code": CODE},
                   {"kit": "fake_kit_plugin"})
    with pytest.raises(AssertionError, match=r"network 'fake_wrong_pattern' of distribution "
                       r"'fake-kit': its arg_scope 'fake_code:scope' cannot be loaded"):
        testing.check_plugin_registrations("fake-kit")


def test_a_correct_network_builds_trains_and_exports(fake_plugin, tmp_path):
    result = testing.check_network("fake_dense", num_classes=3, tmp_dir=tmp_path,
                                   distribution="fake-kit", end_points=["Predictions"])
    assert result.distribution == "fake-kit"
    assert result.logits.shape == (2, 3)
    assert result.loss > 0
    assert "Dense/logits/weights" in result.variables
    assert result.export_dir == str(tmp_path / "fake_dense" / "1")
    assert (tmp_path / "fake_dense" / "1" / "variables" / "variables.index").is_file()
    testing.check_data_formats("fake_dense")


def test_randomized_values_give_batch_norms_statistics_that_tell_channels_apart():
    import tensorflow as tf

    from mox_core.nets import layers

    with tf.Graph().as_default():
        images = tf.constant(testing.random_images(2, 6))
        layers.batch_norm(layers.conv2d(images, 4, 3, normalizer_fn=None, scope="conv"),
                          scale=True, is_training=False, scope="bn")
        values = testing.randomized_values(seed=1)
    assert sorted(values) == ["bn/beta", "bn/gamma", "bn/moving_mean", "bn/moving_variance",
                              "conv/biases", "conv/weights"]
    assert values["conv/weights"].shape == (3, 3, 3, 4)
    for name in ("bn/gamma", "bn/moving_variance"):
        assert ((0.5 <= values[name]) & (values[name] <= 1.5)).all()
        assert len(set(values[name].tolist())) == 4  # one value per channel
    assert len(set(values["bn/beta"].tolist())) == 4 and len(set(values["bn/moving_mean"])) == 4


@pytest.mark.parametrize("name, kwargs, message", [
    ("fake_wrong_pattern", {}, "network 'fake_wrong_pattern' (distribution 'fake-kit'): its "
     "default_logits_pattern 'classifier' should name the logits layer's variables"),
    ("fake_eval_only_variable", {}, "EVAL mode creates variables TRAIN mode does not, so a "
     "training checkpoint cannot restore them: eval_only"),
    ("fake_bad_shape", {}, "in TRAIN mode: logits have shape (10,), expected [2, 5]"),
    ("fake_dense", {"end_points": ["AuxLogits"]}, "end_points lack AuxLogits; it has: Logits, "
     "Predictions"),
    ("fake_dense", {"distribution": "fake-other"}, "is registered by 'fake-kit', not by "
     "'fake-other'"),
])
def test_a_broken_network_fails_with_a_message_naming_it(fake_plugin, name, kwargs, message):
    with pytest.raises(AssertionError) as info:
        testing.check_network(name, train=False, **kwargs)
    assert message in str(info.value)


def test_a_network_must_learn_the_toy_task(fake_plugin, tmp_path):
    images, labels = testing.toy_task(8, examples := 16)
    assert images.shape == (examples, 8, 8, 3) and labels.tolist() == [0, 1] * 8
    losses = testing.check_learns("fake_dense", image_size=8, steps=12, learning_rate=0.01,
                                  tmp_dir=tmp_path)
    assert len(losses) == 12 and losses[-1] < losses[0]
    with pytest.raises(AssertionError, match=r"network 'fake_dense' \(distribution 'fake-kit'\): "
                       r"the loss did not go down on a learnable toy task in 6 steps"):
        testing.check_learns("fake_dense", image_size=8, steps=6, learning_rate=0.0)


def test_a_network_whose_loss_turns_nan_fails_the_check_naming_it(fake_plugin, tmp_path):
    with pytest.raises(AssertionError, match=r"network 'fake_dense' \(distribution 'fake-kit'\): "
                       r"training through mox.run stopped: training stopped at global step \d+: "
                       r"the loss is (nan|inf)"):
        testing.check_learns("fake_dense", image_size=8, steps=12, optimizer="sgd",
                             learning_rate=1e30, tmp_dir=tmp_path)


def test_preprocessing_is_checked_in_train_and_eval(fake_plugin):
    outputs = testing.check_preprocessing("fake_pipeline", output_size=(6, 4))
    assert sorted(outputs) == ["EVAL", "TRAIN"]
    assert outputs["TRAIN"].shape == (6, 4, 3) and outputs["TRAIN"].dtype == "float32"
    with pytest.raises(AssertionError, match=r"preprocessing 'fake_unsized_pipeline' in TRAIN "
                       r"mode \(distribution 'fake-kit'\): output has static shape"):
        testing.check_preprocessing("fake_unsized_pipeline", output_size=6)
    with pytest.raises(AssertionError, match="output dtype is float32, expected uint8"):
        testing.check_preprocessing("fake_pipeline", expected_dtype="uint8")


def test_optimizers_must_lower_the_loss(fake_plugin):
    final = testing.check_optimizer("sgd", 0.1)
    assert final.tolist() == pytest.approx([0.8, -1.6, 0.4])
    testing.check_optimizer("batch_gradients", 0.1, num_batches=2, steps=2)
    with pytest.raises(AssertionError, match=r"optimizer 'fake_ascent' \(distribution 'fake-kit'"
                       r"\): 1 step\(s\) of minimize on sum\(w \*\* 2\) did not lower the loss"):
        testing.check_optimizer("fake_ascent", 0.1)


def test_the_kit_imports_without_pytest_or_tensorflow():
    code = ("import sys; sys.modules['pytest'] = None; import mox_core.testing; "
            "print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
