"""Hooks called through pluggy: a plugin whose hook fails is named and left out, the behavioural
hooks (``mox_commands``, ``mox_session_hooks``) add commands and session hooks, and
``MOX_TRACE_PLUGINS`` traces every call."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest
import tensorflow as tf
from executor_models import dataset_input_fn, linear_model_fn

import mox_core as mox
from mox_core import cli, plugins

NETS_PLUGIN = """
    from mox_core import hookimpl
    from mox_core.registry import NetworkSpec

    @hookimpl
    def mox_networks():
        return [NetworkSpec(name="fake_good", builder="fake_builders:build",
                            default_image_size=32)]
"""

RAISING_PLUGIN = """
    from mox_core import hookimpl

    @hookimpl
    def mox_networks():
        raise KeyError("no such table")

    @hookimpl
    def mox_commands(subparsers):
        subparsers.add_parser("half-done", help="added before the hook raised")
        raise RuntimeError("commands went wrong")

    @hookimpl
    def mox_session_hooks(config):
        raise RuntimeError("hooks went wrong")
"""

WRONG_TYPES_PLUGIN = """
    from mox_core import hookimpl
    from mox_core.registry import OptimizerSpec

    @hookimpl
    def mox_networks():  # an optimizer record where networks are expected
        return [OptimizerSpec(name="not_a_net", factory="fake_builders:build")]

    @hookimpl
    def mox_optimizers():  # one record, not a list of them
        return OptimizerSpec(name="lonely", factory="fake_builders:build")

    @hookimpl
    def mox_session_hooks(config):
        return ["not a hook"]
"""

COMMANDS_PLUGIN = """
    from mox_core import hookimpl

    def hello(args):
        print(f"hello, {args.name}")
        return 0

    def refuse(args):
        raise ValueError("the greeting is refused: name someone")

    @hookimpl
    def mox_commands(subparsers):
        parser = subparsers.add_parser("hello", help="greet someone")
        parser.add_argument("--name", default="world")
        parser.set_defaults(func=hello)
        parser = subparsers.add_parser("refuse", help="always an error")
        parser.set_defaults(func=refuse)
        parser = subparsers.add_parser("train", help="a plugin's train")  # the core's wins
        parser.add_argument("--anything")
"""


def hook_warnings(record) -> list[str]:
    """The hook warnings about this test's plugins (their distributions are named fake-*),
    sorted."""
    return sorted(str(w.message) for w in record
                  if issubclass(w.category, plugins.PluginHookWarning)
                  and "distribution 'fake-" in str(w.message))


def test_a_registration_hook_that_raises_is_named_once_and_the_rest_works(fake_dists):
    fake_dists.add("fake-raising", {"fake_raising": RAISING_PLUGIN}, {"raising": "fake_raising"})
    fake_dists.add("fake-nets", {"fake_nets_plugin": NETS_PLUGIN}, {"nets": "fake_nets_plugin"})
    with pytest.warns(plugins.PluginHookWarning) as record:
        names = plugins.list_networks()
    assert hook_warnings(record) == [
        "mox plugin 'raising' of distribution 'fake-raising': hook mox_networks failed and what "
        "it adds is left out: KeyError: 'no such table'"
    ]
    assert "fake_good" in names
    assert "sgd" in plugins.registry("optimizers")
    raising = next(i for i in plugins.plugin_infos() if i.distribution == "fake-raising")
    assert raising.loaded
    assert raising.hook_errors == {"mox_networks": "KeyError: 'no such table'"}


def test_records_of_the_wrong_type_are_refused_naming_the_plugin_and_the_hook(fake_dists):
    fake_dists.add("fake-wrong", {"fake_wrong": WRONG_TYPES_PLUGIN}, {"wrong": "fake_wrong"})
    with pytest.warns(plugins.PluginHookWarning) as record:
        networks = plugins.registry("networks")
        optimizers = plugins.registry("optimizers")
    messages = hook_warnings(record)
    assert len(messages) == 2
    assert messages[0].startswith("mox plugin 'wrong' of distribution 'fake-wrong': hook "
                                  "mox_networks failed")
    assert ("TypeError: expected a list of NetworkSpec, got an item of type OptimizerSpec"
            in messages[0])
    assert "hook mox_optimizers failed" in messages[1]
    assert ("expected a list of OptimizerSpec, got a single OptimizerSpec 'lonely': return it in "
            "a list" in messages[1])
    assert "not_a_net" not in networks and "lonely" not in optimizers
    assert "sgd" in optimizers


def test_mox_plugins_shows_a_plugin_whose_hook_failed(fake_dists, capsys):
    fake_dists.add("fake-raising", {"fake_raising": RAISING_PLUGIN}, {"raising": "fake_raising"},
                   version="0.3")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", plugins.PluginWarning)
        assert cli.main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "fake-raising 0.3  (fake_raising)  [HOOK FAILED]" in out
    assert "    error in mox_networks: KeyError: 'no such table'" in out
    assert "    error in mox_commands: RuntimeError: commands went wrong" in out
    assert "mox-core" in out  # the core is listed as before


def run_mox(root, *args: str) -> subprocess.CompletedProcess:
    """``python -m mox_core.cli ARGS`` with the fake distributions in ``root`` installed."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path])}
    return subprocess.run([sys.executable, "-m", "mox_core.cli", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def test_a_plugin_adds_a_mox_command_and_cannot_replace_a_core_one(fake_dists):
    fake_dists.add("fake-commands", {"fake_commands": COMMANDS_PLUGIN},
                   {"commands": "fake_commands"})
    result = run_mox(fake_dists.root, "hello", "--name", "mox")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello, mox\n"
    assert ("PluginHookWarning: mox plugin 'commands' of distribution 'fake-commands': its "
            "command 'train' is left out: 'mox-core' has a command of that name already"
            in result.stderr)
    # a plugin command's errors are rendered like the core's
    result = run_mox(fake_dists.root, "refuse")
    assert result.returncode == 2
    assert "mox: error: the greeting is refused: name someone" in result.stderr
    # the core's train is the one that runs
    result = run_mox(fake_dists.root, "train", "--help")
    assert result.returncode == 0 and "--log-dir" in result.stdout
    assert "--anything" not in result.stdout


def test_a_plugin_whose_mox_commands_raises_loses_its_commands_and_the_rest_work(fake_dists):
    fake_dists.add("fake-raising", {"fake_raising": RAISING_PLUGIN}, {"raising": "fake_raising"})
    fake_dists.add("fake-commands", {"fake_commands": COMMANDS_PLUGIN},
                   {"commands": "fake_commands"})
    with pytest.warns(plugins.PluginHookWarning) as record:
        parser = cli.build_parser()
    assert ("mox plugin 'raising' of distribution 'fake-raising': hook mox_commands failed and "
            "what it adds is left out: RuntimeError: commands went wrong") in hook_warnings(record)
    with pytest.raises(SystemExit):
        parser.parse_args(["half-done"])  # withdrawn with the hook that added it
    assert "half-done" not in parser.format_help()
    assert parser.parse_args(["hello"]).name == "world"
    assert parser.parse_args(["nets"]).command == "nets"


def test_session_hooks_leave_out_a_raising_plugin_and_wrong_types(fake_dists):
    fake_dists.add("fake-raising", {"fake_raising": RAISING_PLUGIN}, {"raising": "fake_raising"})
    fake_dists.add("fake-wrong", {"fake_wrong": WRONG_TYPES_PLUGIN}, {"wrong": "fake_wrong"})
    fake_dists.add("fake-good", {"fake_good_hooks": """
        import tensorflow as tf
        from mox_core import hookimpl

        @hookimpl
        def mox_session_hooks(config):
            return [tf.compat.v1.train.StopAtStepHook(last_step=config)]
    """}, {"good": "fake_good_hooks"})
    with pytest.warns(plugins.PluginHookWarning) as record:
        hooks = plugins.session_hooks(7)
    assert [type(hook) for hook in hooks] == [tf.compat.v1.train.StopAtStepHook]
    messages = hook_warnings(record)
    assert len(messages) == 2
    assert "'fake-raising': hook mox_session_hooks failed" in messages[0]
    assert "RuntimeError: hooks went wrong" in messages[0]
    assert "'fake-wrong': hook mox_session_hooks failed" in messages[1]
    assert ("expected a list of tf.compat.v1.train.SessionRunHook, got an item of type str"
            in messages[1])


def test_trace_plugins_prints_every_load_and_hook_call(fake_dists, monkeypatch, capsys):
    fake_dists.add("fake-nets", {"fake_nets_plugin": NETS_PLUGIN}, {"nets": "fake_nets_plugin"})
    fake_dists.add("fake-raising", {"fake_raising": RAISING_PLUGIN}, {"raising": "fake_raising"})
    monkeypatch.setenv("MOX_TRACE_PLUGINS", "1")
    plugins.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", plugins.PluginWarning)
        plugins.registry("networks")
    lines = capsys.readouterr().err.splitlines()
    assert "mox: loaded plugin fake_nets_plugin from fake-nets 1.0" in lines
    assert "mox: calling hook mox_networks of plugin fake-nets:nets" in lines
    assert "mox: hook mox_networks of plugin fake-nets:nets returned 1 item(s)" in lines
    assert ("mox: hook mox_networks of plugin fake-raising:raising raised KeyError: "
            "'no such table'") in lines


STEP_RECORDER_PLUGIN = """
    import tensorflow as tf
    from mox_core import hookimpl

    #: (mode, max_steps, is_chief, log_dir) of each run, then one entry per step it ran
    RUNS = []

    class StepRecorder(tf.compat.v1.train.SessionRunHook):
        def __init__(self, steps):
            self.steps = steps

        def after_run(self, run_context, run_values):
            self.steps.append(len(self.steps) + 1)

    @hookimpl
    def mox_session_hooks(config):
        steps = []
        RUNS.append(((config.mode, config.max_steps, config.is_chief, config.log_dir), steps))
        return [StepRecorder(steps)]
"""


def test_a_plugin_session_hook_sees_every_step_of_every_run(fake_dists, tmp_path):
    fake_dists.add("fake-steps", {"fake_steps": STEP_RECORDER_PLUGIN}, {"steps": "fake_steps"})
    fake_dists.add("fake-raising", {"fake_raising": RAISING_PLUGIN}, {"raising": "fake_raising"})
    with pytest.warns(plugins.PluginHookWarning, match="'fake-raising': hook mox_session_hooks"):
        mox.run(input_fn=dataset_input_fn(epochs=10), model_fn=linear_model_fn,
                optimizer_fn=mox.get_optimizer_fn("sgd", 0.1), run_mode=mox.ModeKeys.TRAIN,
                batch_size=16, log_dir=str(tmp_path), max_number_of_steps=6)
    with pytest.warns(plugins.PluginHookWarning, match="'fake-raising': hook mox_session_hooks"):
        metrics = mox.run(input_fn=dataset_input_fn(), model_fn=linear_model_fn,
                          run_mode=mox.ModeKeys.EVAL, batch_size=16,
                          checkpoint_path=str(tmp_path))
    assert "loss" in metrics
    import fake_steps

    (train_config, train_steps), (eval_config, eval_steps) = fake_steps.RUNS
    assert train_config == ("TRAIN", 6, True, str(tmp_path))
    assert train_steps == [1, 2, 3, 4, 5, 6]
    assert eval_config[0] == "EVAL"
    assert eval_steps == [1, 2, 3, 4]  # 64 samples in batches of 16, each once
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-6")
