"""Run flags: absl-backed get_flag / set_flag, command-line parsing, plugin flags."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from absl import flags as absl_flags

import mox_core as mox
from mox_core import flags


@pytest.fixture(autouse=True)
def restore_flag_values():
    saved = {spec.name: mox.get_flag(spec.name) for spec in flags.flag_specs()}
    yield
    for name, value in saved.items():
        setattr(absl_flags.FLAGS, name, value)


def run_script(source: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source), *argv],
        capture_output=True, text=True, timeout=120,
    )


def test_defaults_match_what_moxing_scripts_rely_on():
    assert mox.get_flag("num_gpus") == 1
    assert mox.get_flag("task_index") == 0
    assert mox.get_flag("job_name") == ""
    assert mox.get_flag("ps_hosts") == ""
    assert mox.get_flag("worker_hosts") == ""
    assert len(mox.get_flag("worker_hosts").split(",")) == 1  # the scripts' worker count idiom
    assert mox.get_flag("log_first_clone") is True
    assert mox.get_flag("loss_scale") == 1.0
    assert mox.get_flag("checkpoint_exclude_patterns") == ""


def test_every_flag_has_a_type_a_default_and_help():
    specs = flags.flag_specs()
    assert len(specs) >= 19
    for spec in specs:
        assert spec.type in {"string", "integer", "float", "boolean", "enum"}
        assert spec.help.strip(), spec.name
        assert absl_flags.FLAGS[spec.name].default == spec.default


def test_set_flag_converts_values_as_the_command_line_would():
    mox.set_flag("checkpoint_exclude_patterns", "logits")
    mox.set_flag("num_gpus", "4")
    mox.set_flag("sync_replicas", "false")
    mox.set_flag("loss_scale", 1024)
    assert mox.get_flag("checkpoint_exclude_patterns") == "logits"
    assert mox.get_flag("num_gpus") == 4
    assert mox.get_flag("sync_replicas") is False
    assert mox.get_flag("loss_scale") == 1024.0


def test_flags_live_in_the_registry_behind_tf_compat_v1_flags():
    import tensorflow.compat.v1 as tf

    mox.set_flag("num_gpus", 2)
    assert tf.flags.FLAGS.num_gpus == 2
    assert tf.flags.FLAGS["num_gpus"] is absl_flags.FLAGS["num_gpus"]  # one registry


def test_unknown_flag_names_the_closest_known_flags():
    with pytest.raises(ValueError, match=r"unknown flag 'num_gpu'\. Closest known flags: num_gpus"):
        mox.get_flag("num_gpu")
    with pytest.raises(ValueError, match=r"unknown flag 'checkpoint_exclude_pattern'\. "
                                         r"Closest known flags: checkpoint_exclude_patterns"):
        mox.set_flag("checkpoint_exclude_pattern", "logits")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("num_gpus", "two", "flag 'num_gpus' expects a value of type int, got 'two'"),
        ("num_gpus", 2.5, "flag 'num_gpus' expects a value of type int, got 2.5"),
        ("sync_replicas", "maybe", "flag 'sync_replicas' expects a value of type bool"),
        ("job_name", 3, "flag 'job_name' expects a value of type string, got 3"),
        ("loss_scale", "big", "flag 'loss_scale' expects a value of type float"),
    ],
)
def test_ill_typed_values_are_refused_with_the_flag_named(name, value, expected):
    before = mox.get_flag(name)
    with pytest.raises(ValueError) as excinfo:
        mox.set_flag(name, value)
    assert str(excinfo.value).startswith(expected)
    assert mox.get_flag(name) == before


def test_names_user_scripts_define_are_left_to_them():
    for name in flags.USER_SCRIPT_FLAGS:
        assert name not in {spec.name for spec in flags.flag_specs()}
    result = run_script(
        """
        import mox_core as mox
        from absl import flags
        for name in sorted(mox.flags.USER_SCRIPT_FLAGS):
            flags.DEFINE_string(name, "", "the script's own")
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_script_with_its_own_flags_and_tf_app_run_gets_both_from_one_command_line():
    result = run_script(
        """
        import tensorflow.compat.v1 as tf
        import moxing.tensorflow as mox
        tf.flags.DEFINE_string("data_url", "/default", "where the data is")
        tf.flags.DEFINE_integer("batch_size", 32, "per device")
        FLAGS = tf.flags.FLAGS

        def main(argv):
            print(repr(FLAGS.data_url), FLAGS.batch_size, mox.get_flag("num_gpus"),
                  repr(mox.get_flag("worker_hosts")))

        tf.app.run(main)
        """,
        "--num_gpus=2", "--data_url=", "--batch_size=8", "--worker_hosts=h1:2222,h2:2222",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "'' 8 2 'h1:2222,h2:2222'"


def test_known_flags_are_read_from_argv_on_first_use_when_nothing_parsed_them():
    result = run_script(
        """
        import mox_core as mox
        print(mox.get_flag("num_gpus"), mox.get_flag("sync_replicas"))
        mox.set_flag("task_index", 1)          # a later parse must not undo this
        print(mox.get_flag("task_index"))
        """,
        "--data_url=", "--num_gpus=3", "--unknown_to_mox=1", "--nosync_replicas", "positional",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "False", "1"]


def test_an_ill_typed_command_line_flag_is_a_clear_error():
    result = run_script(
        """
        import mox_core as mox
        mox.get_flag("num_gpus")
        """,
        "--num_gpus=lots",
    )
    assert result.returncode != 0
    assert "ValueError: bad command-line flag: flag --num_gpus=lots" in result.stderr


PLUGIN_WITH_FLAGS = """
    from mox_core import hookimpl
    from mox_core.registry import FlagSpec

    @hookimpl
    def mox_flags():
        return [FlagSpec("fake_cache_mb", "integer", 64, "cache size of the fake plugin"),
                FlagSpec("fake_codec", "enum", "png", "codec", choices=("png", "jpeg")),
                FlagSpec("batch_size", "integer", 32, "a name user scripts own")]
"""


def test_plugins_add_flags_but_never_reserved_names(fake_dists):
    fake_dists.add("fake-flags", {"fake_flags_plugin": PLUGIN_WITH_FLAGS},
                   {"flags": "fake_flags_plugin"})
    with pytest.warns(flags.FlagDefinitionWarning,
                      match="mox flag 'batch_size' of distribution 'fake-flags' is not defined"):
        flags.define_flags()
    assert mox.get_flag("fake_cache_mb") == 64
    mox.set_flag("fake_codec", "jpeg")
    assert mox.get_flag("fake_codec") == "jpeg"
    with pytest.raises(ValueError, match="flag 'fake_codec' expects"):
        mox.set_flag("fake_codec", "gif")
    assert "batch_size" not in absl_flags.FLAGS
