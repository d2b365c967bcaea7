"""``mox train`` with nothing but data: the network's recipe (or the generic one), printed in one
line, overridden by the options a user gives; validation while training keeps the best model
and may stop early; fine-tuning from a checkpoint of another class count drops its logits and
can train the head first; a loss stuck at chance level is called out."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from mox_core import cli, recipes
from mox_core.demo import SHAPES, write_shapes_dataset
from mox_core.executor.guards import StuckAtChance

#: a plugin whose network has a recipe of its own (Adam), and one that has none
RECIPE_PLUGIN = """
    from mox_core import hookimpl
    from mox_core.recipes import Recipe
    from mox_core.registry import NetworkSpec

    @hookimpl
    def mox_networks():
        return [
            NetworkSpec(name="tiny_adam", builder="tiny_net:build_random_head",
                        default_image_size=16,
                        preprocessing="lenet_preprocessing",
                        recipe=Recipe(optimizer="adam", optimizer_options=(),
                                      learning_rate=0.004, reference_batch=32, epochs=3,
                                      batch_size=8, label_smoothing=0.1,
                                      source="tiny_adam's own recipe")),
            NetworkSpec(name="tiny_plain", builder="tiny_net:build", default_image_size=16,
                        preprocessing="lenet_preprocessing"),
        ]
"""

#: a body (one convolution) and a head (``logits``) as real networks have them
TINY_NET = """
    import tensorflow.compat.v1 as tf

    def build(images, num_classes, is_training=False, zero_head=True, **arch):
        with tf.variable_scope("Tiny"):
            kernel = tf.get_variable("conv/kernel", [3, 3, 3, 4])
            body = tf.nn.relu(tf.nn.conv2d(images, kernel, 2, "SAME"))
            pooled = tf.reduce_mean(body, axis=[1, 2])
            # zeros: an untrained head guesses uniformly, its loss is ln(num_classes)
            weights = tf.get_variable("logits/kernel", [4, num_classes],
                                      initializer=tf.zeros_initializer() if zero_head else None)
            bias = tf.get_variable("logits/bias", [num_classes],
                                   initializer=tf.zeros_initializer())
            logits = tf.nn.bias_add(tf.matmul(pooled, weights), bias)
        return logits, {"Logits": logits}


    def build_random_head(images, num_classes, is_training=False, **arch):
        # random logits weights: a rate of 1e-12 cannot break ties that do not exist
        return build(images, num_classes, is_training, zero_head=False, **arch)
"""


#: a network with batch norm whose family's arg scope sets its decay, as TF-Slim's do
BN_PLUGIN = """
    from mox_core import hookimpl
    from mox_core.nets import layers
    from mox_core.registry import NetworkSpec

    def bn_arg_scope(weight_decay=0.0, batch_norm_decay=0.9997):
        with layers.arg_scope([layers.batch_norm], decay=batch_norm_decay) as scope:
            return scope

    def build(images, num_classes, is_training=False, **arch):
        net = layers.batch_norm(images, scope="bn")
        logits = layers.fully_connected(layers.flatten(net), num_classes, activation_fn=None,
                                        scope="logits")
        return logits, {"Logits": logits}

    @hookimpl
    def mox_networks():
        return [NetworkSpec(name="tiny_bn", builder="tiny_bn_plugin:build",
                            arg_scope="tiny_bn_plugin:bn_arg_scope", default_image_size=4)]
"""


@pytest.fixture
def tiny_nets(fake_dists):
    fake_dists.add("tiny-nets", {"tiny_plugin": RECIPE_PLUGIN, "tiny_net": TINY_NET},
                   {"tiny": "tiny_plugin"})
    fake_dists.add("tiny-bn", {"tiny_bn_plugin": BN_PLUGIN}, {"bn": "tiny_bn_plugin"})
    yield fake_dists


@pytest.fixture
def shapes(tmp_path):
    return write_shapes_dataset(str(tmp_path / "data"), images_per_class=6, size=16)


def recipe_line(caplog) -> str:
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Recipe for")]
    assert len(lines) == 1, lines
    return lines[0]


def read_variable(prefix: str, name: str) -> np.ndarray:
    return tf.train.load_variable(prefix, name)


# -- the plan ---------------------------------------------------------------------------------


def test_the_recipe_rate_is_scaled_to_the_batch_and_options_given_override_it():
    recipe = recipes.Recipe(learning_rate=0.1, reference_batch=256, warmup_epochs=2, epochs=5)
    plan = recipes.plan("net", recipe, num_samples=1000, global_batch=64, image_size=32)
    assert plan.learning_rate == pytest.approx(0.025)
    assert plan.total_steps == math.ceil(5 * 1000 / 64) == 79
    assert plan.warmup_steps == min(round(2 * 1000 / 64), int(0.2 * 79)) == 15  # capped
    assert (plan.optimizer, plan.optimizer_options) == ("momentum", {"momentum": 0.9})
    assert plan.given == frozenset()

    mine = recipes.plan("net", recipe, num_samples=1000, global_batch=64, image_size=32,
                        max_steps=300, optimizer="adam", weight_decay=0.0, schedule="constant")
    assert (mine.optimizer, mine.optimizer_options) == ("adam", {})
    assert mine.learning_rate == recipes.STANDARD_RATES["adam"]  # not momentum's rate
    assert (mine.total_steps, mine.weight_decay, mine.schedule) == (300, 0.0, "constant")
    line = mine.describe()
    assert "adam (given), learning rate 0.001, warm-up 31 steps, constant (given)" in line
    assert "weight decay 0 (given)" in line

    tuned = recipes.plan("net", recipe, num_samples=1000, global_batch=64, image_size=32,
                         fine_tuning=True)
    assert tuned.learning_rate == pytest.approx(0.0025)  # fine_tune_rate 0.1
    assert tuned.warmup_steps == 0


def test_the_learning_rate_warms_up_linearly_then_follows_a_cosine_to_zero():
    plan = recipes.plan("net", recipes.Recipe(learning_rate=0.8, reference_batch=8,
                                              warmup_epochs=1),
                        num_samples=80, global_batch=8, image_size=8, max_steps=110)
    assert plan.warmup_steps == 10
    with tf.Graph().as_default():
        rate = plan.learning_rate_tensor()
        step = tf.train.get_global_step()
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            seen = {}
            for at in (0, 4, 9, 10, 60, 110, 200):
                session.run(step.assign(at))
                seen[at] = float(session.run(rate))
    assert seen[0] == pytest.approx(0.08) and seen[4] == pytest.approx(0.4)
    assert seen[9] == pytest.approx(0.8) and seen[10] == pytest.approx(0.8)
    assert seen[60] == pytest.approx(0.4, rel=1e-5)  # halfway down the cosine
    assert seen[110] == pytest.approx(0.0, abs=1e-7) and seen[200] == pytest.approx(0.0, abs=1e-7)


def test_a_piecewise_recipe_divides_the_rate_at_its_boundaries():
    recipe = recipes.Recipe(learning_rate=1.0, reference_batch=1, warmup_epochs=0,
                            schedule="piecewise", boundaries=(0.5, 0.75), decay=0.1)
    plan = recipes.plan("net", recipe, num_samples=10, global_batch=1, image_size=8,
                        max_steps=100)
    with tf.Graph().as_default():
        rate = plan.learning_rate_tensor()
        step = tf.train.get_global_step()
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            values = []
            for at in (0, 49, 50, 74, 75, 99):
                session.run(step.assign(at))
                values.append(float(session.run(rate)))
    assert values == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01, 0.01])


def test_a_short_run_lowers_a_slow_batch_norm_decay_so_its_averages_settle():
    assert recipes.batch_norm_decay_for(1500, 0.9997) == pytest.approx(1 - 10 / 1500)
    assert recipes.batch_norm_decay_for(100_000, 0.997) == 0.997  # never raised
    assert recipes.batch_norm_decay_for(50, 0.9997) == 0.9  # never below 0.9
    assert recipes.batch_norm_decay_for(1500, None) is None  # no batch norm


def test_get_model_fn_gives_the_batch_norm_decay_to_the_family_arg_scope(tiny_nets):
    import mox_core as mox
    from mox_core.nets import default_batch_norm_decay

    assert default_batch_norm_decay("tiny_bn") == 0.9997
    assert default_batch_norm_decay("tiny_adam") is None  # takes its layer options itself
    with tf.Graph().as_default():
        images = tf.fill([2, 4, 4, 3], 8.0)
        network_fn = mox.get_model_fn("tiny_bn", mox.ModeKeys.TRAIN, 2, batch_norm_decay=0.5,
                                      preprocess_fn=None)
        network_fn(images)
        moving_mean = [v for v in tf.global_variables() if "moving_mean" in v.op.name][0]
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            session.run(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
            # 0.5 * 0 + 0.5 * 8: the decay given, not the family's 0.9997
            np.testing.assert_allclose(session.run(moving_mean), [4.0, 4.0, 4.0])


def test_a_batch_norm_decay_for_a_network_that_cannot_take_it_warns(tiny_nets):
    import mox_core as mox

    with pytest.warns(UserWarning, match="network 'tiny_adam' has no batch-norm decay to set"):
        mox.get_model_fn("tiny_adam", mox.ModeKeys.TRAIN, 2, batch_norm_decay=0.9)
    with pytest.raises(ValueError, match=r"batch_norm_decay must be a number in \(0, 1\)"):
        mox.get_model_fn("tiny_bn", mox.ModeKeys.TRAIN, 2, batch_norm_decay=1.0)


@pytest.mark.parametrize("fields, message", [
    ({"learning_rate": float("nan")}, "Recipe learning_rate must be a finite number > 0, got nan"),
    ({"epochs": 0}, "Recipe epochs must be a whole number >= 1, got 0"),
    ({"schedule": "linear"}, "Recipe schedule must be one of cosine, piecewise, constant"),
    ({"schedule": "piecewise"}, "Recipe schedule 'piecewise' needs boundaries"),
    ({"boundaries": (0.7, 0.3), "schedule": "piecewise"}, "increasing fractions of the run"),
    ({"label_smoothing": 1.0}, "Recipe label_smoothing must be in [0, 1), got 1.0"),
    ({"image_size": "32"}, "Recipe image_size must be None"),
])
def test_a_recipe_with_a_bad_field_is_refused_naming_it(fields, message):
    with pytest.raises(ValueError) as error:
        recipes.Recipe(**fields)
    assert message in str(error.value)


# -- mox train --------------------------------------------------------------------------------


def test_mox_train_uses_the_networks_own_recipe_and_prints_it(tiny_nets, shapes, tmp_path,
                                                              caplog):
    caplog.set_level("INFO", logger="tensorflow")
    log_dir = tmp_path / "log"
    assert cli.main(["train", "--net", "tiny_adam", "--data", shapes, "--log-dir",
                     str(log_dir), "--quiet"]) == 0
    line = recipe_line(caplog)
    # 24 images, batch 8 -> 3 steps an epoch, the recipe's 3 epochs; 0.004 per 32 images
    assert line.startswith("Recipe for tiny_adam: adam, learning rate 0.001, ")
    assert "over 9 steps" in line and "label smoothing 0.1," in line
    assert "batch 8, image 16 [tiny_adam's own recipe]" in line
    assert tf.train.latest_checkpoint(str(log_dir)).endswith("model.ckpt-9")
    assert read_variable(str(log_dir), "Tiny/conv/kernel/Adam").shape == (3, 3, 3, 4)


def test_a_network_without_a_recipe_gets_the_generic_one(tiny_nets, shapes, tmp_path, caplog):
    caplog.set_level("INFO", logger="tensorflow")
    assert cli.main(["train", "--net", "tiny_plain", "--data", shapes, "--log-dir",
                     str(tmp_path / "log"), "--max-steps", "4", "--batch-size", "4",
                     "--weight-decay", "0", "--quiet"]) == 0
    line = recipe_line(caplog)
    # 0.1 per 256 images at 4 a step; the warm-up of one epoch capped to a fifth of 4 steps
    assert line.startswith("Recipe for tiny_plain: momentum (momentum 0.9), learning rate "
                           "0.00156")
    assert "learning rate 0.00156" in line
    assert ", cosine over 4 steps," in line and "warm-up" not in line.split("[")[0]
    assert "weight decay 0 (given)" in line
    assert line.endswith(f"[{recipes.GENERIC.source}]")


def test_val_split_keeps_the_best_model_which_mox_eval_reads(tiny_nets, shapes, tmp_path,
                                                             capsys):
    log_dir = tmp_path / "log"
    assert cli.main(["train", "--net", "tiny_adam", "--data", shapes, "--log-dir",
                     str(log_dir), "--val-split", "0.25", "--max-steps", "12", "--quiet"]) == 0
    out = capsys.readouterr().out
    best = json.loads((log_dir / "best" / "best.json").read_text())
    assert best["monitor"] == "accuracy" and 0.0 <= best["accuracy"] <= 1.0
    # one image of each class's 6 held out: 20 training images (3 steps an epoch), 4
    # evaluations, the best one kept
    assert f"best validation accuracy: {best['accuracy']:.3f} at step {best['global_step']} " \
           f"(4 images); that model is in {log_dir / 'best'}" in out
    assert best["global_step"] in (3, 6, 9, 12)
    assert tf.train.latest_checkpoint(str(log_dir / "best")).endswith(
        f"model.ckpt-{best['global_step']}")
    tags = {value.tag for path in (log_dir / "validation").glob("events.out.tfevents.*")
            for event in tf.train.summary_iterator(str(path)) for value in event.summary.value}
    assert {"accuracy", "loss"} <= tags
    assert cli.main(["eval", "--data", shapes, "--checkpoint", str(log_dir / "best")]) == 0
    assert "accuracy: " in capsys.readouterr().out


def test_early_stop_ends_a_run_that_stopped_improving(tiny_nets, shapes, tmp_path, capsys):
    held = write_shapes_dataset(str(tmp_path / "held"), images_per_class=2, size=16, seed=1)
    log_dir = tmp_path / "log"
    # a rate that moves nothing: the first evaluation is the best, the next one stops
    assert cli.main(["train", "--net", "tiny_adam", "--data", shapes, "--eval-data", held,
                     "--log-dir", str(log_dir), "--max-steps", "30", "--learning-rate", "1e-12",
                     "--early-stop", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "stopped early at step 6: no improvement for 1 evaluations" in out
    assert tf.train.latest_checkpoint(str(log_dir)).endswith("model.ckpt-6")
    assert json.loads((log_dir / "best" / "best.json").read_text())["global_step"] == 3


def test_early_stop_without_validation_data_is_refused(tiny_nets, shapes, tmp_path, capsys):
    assert cli.main(["train", "--net", "tiny_adam", "--data", shapes, "--log-dir",
                     str(tmp_path / "log"), "--early-stop", "3"]) == 2
    assert capsys.readouterr().err == ("mox: error: --early-stop needs validation data: add "
                                       "--eval-data DIR or --val-split 0.1\n")


def test_val_split_of_tfrecords_is_refused_pointing_at_eval_data(tiny_nets, tmp_path, capsys):
    records = tmp_path / "records"
    records.mkdir()
    (records / "x_train_00000-of-00001.tfrecord").write_bytes(b"")
    assert cli.main(["train", "--net", "tiny_adam", "--data", str(records), "--log-dir",
                     str(tmp_path / "log"), "--val-split", "0.1"]) == 2
    assert capsys.readouterr().err == (
        f"mox: error: --val-split cuts a folder of class folders; --data {str(records)!r} "
        f"holds TFRecords: give the validation data with --eval-data\n")


def test_fine_tuning_drops_logits_of_another_class_count_and_can_train_the_head_first(
        tiny_nets, shapes, tmp_path, caplog):
    caplog.set_level("INFO", logger="tensorflow")
    pretrained = tmp_path / "pretrained"
    assert cli.main(["train", "--net", "tiny_adam", "--data", shapes, "--log-dir",
                     str(pretrained), "--max-steps", "6", "--quiet"]) == 0
    three = write_shapes_dataset(str(tmp_path / "three"), images_per_class=4, size=16, seed=2)
    for name in SHAPES[3:]:  # keep three of the four classes
        for image in (tmp_path / "three" / name).iterdir():
            image.unlink()
        (tmp_path / "three" / name).rmdir()
    caplog.clear()
    tuned = tmp_path / "tuned"
    assert cli.main(["train", "--net", "tiny_adam", "--data", three, "--log-dir", str(tuned),
                     "--checkpoint", str(pretrained), "--max-steps", "4",
                     "--freeze-backbone-epochs", "10", "--quiet"]) == 0
    messages = [r.getMessage() for r in caplog.records]
    dropped = [m for m in messages if m.startswith("Fine-tuning from")]
    assert dropped == [
        f"Fine-tuning from {pretrained}/model.ckpt-6: its logits are for another number of "
        f"classes than the 3 here; left out of the warm start and trained from scratch: "
        f"Tiny/logits/bias [4], Tiny/logits/kernel [4, 4]"]
    assert "Recipe for tiny_adam (fine-tuning): adam, learning rate 0.0001," in \
        recipe_line(caplog)
    # the body was restored and stayed frozen; the new head trained
    before, after = str(pretrained / "model.ckpt-6"), str(tuned / "model.ckpt-4")
    np.testing.assert_array_equal(read_variable(before, "Tiny/conv/kernel"),
                                  read_variable(after, "Tiny/conv/kernel"))
    assert read_variable(after, "Tiny/logits/kernel").shape == (4, 3)


def test_freeze_backbone_without_a_checkpoint_is_refused(tiny_nets, shapes, tmp_path, capsys):
    assert cli.main(["train", "--net", "tiny_adam", "--data", shapes, "--log-dir",
                     str(tmp_path / "log"), "--freeze-backbone-epochs", "1"]) == 2
    assert "--freeze-backbone-epochs freezes a pretrained network: give the --checkpoint" in \
        capsys.readouterr().err


# -- a loss at chance level -------------------------------------------------------------------


def test_a_loss_stuck_at_chance_level_warns_once_after_the_warm_up(caplog):
    caplog.set_level("WARNING", logger="tensorflow")
    check = StuckAtChance(num_classes=10, every=10, intervals=5, start_step=20)
    chance = math.log(10)
    for step in range(200):
        check.observe(step, np.array([chance + 0.01]))
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "The loss has stayed at 2.313, chance level for 10 classes (ln 10 = 2.303), for the "
        "last 50 steps (to global step 69): the network is not learning. Lower the learning "
        "rate, try another optimizer (adam)")


def test_a_loss_that_falls_is_not_called_stuck(caplog):
    caplog.set_level("WARNING", logger="tensorflow")
    check = StuckAtChance(num_classes=4, every=5, intervals=3)
    for step in range(100):
        check.observe(step, np.array([math.log(4) * (1.0 - step / 100)]))
    assert not caplog.records


def test_mox_train_warns_when_the_network_learns_nothing(tiny_nets, tmp_path, caplog):
    caplog.set_level("WARNING", logger="tensorflow")
    # one image per class repeated: the loss of a network that does not move is ln 4
    data = write_shapes_dataset(str(tmp_path / "data"), images_per_class=2, size=16)
    assert cli.main(["train", "--net", "tiny_plain", "--data", data, "--log-dir",
                     str(tmp_path / "log"), "--max-steps", "40", "--learning-rate", "1e-12",
                     "--log-every", "2", "--weight-decay", "0", "--quiet"]) == 0
    stuck = [r.getMessage() for r in caplog.records if "chance level" in r.getMessage()]
    assert len(stuck) == 1 and "chance level for 4 classes (ln 4 = 1.386)" in stuck[0]
