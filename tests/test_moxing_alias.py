"""Ported ModelArts scripts keep their imports: ``moxing.tensorflow`` is ``mox_core``."""

import importlib

import mox_core


def test_import_moxing_tensorflow_as_mox_is_the_same_module():
    import moxing.tensorflow as mox

    assert mox is mox_core
    assert mox.get_flag is mox_core.get_flag
    assert mox.ModeKeys.TRAIN == "TRAIN"


def test_the_seed_module_paths_import_as_the_same_module_objects():
    for path in ("executor", "datasets", "preprocessing", "nets", "optimizer",
                 "optimizer.learning_rate_scheduler"):
        alias = importlib.import_module(f"moxing.tensorflow.{path}")
        assert alias is importlib.import_module(f"mox_core.{path}"), path


def test_seed_style_imports():
    from moxing.tensorflow.executor import ModeKeys, get_flag, set_flag
    from moxing.tensorflow.optimizer import learning_rate_scheduler

    assert ModeKeys.EVAL == "EVAL"
    assert set_flag is mox_core.set_flag and get_flag is mox_core.get_flag
    assert learning_rate_scheduler.piecewise_lr is mox_core.learning_rate_scheduler.piecewise_lr


def test_a_path_mox_lacks_is_a_plain_import_error():
    try:
        importlib.import_module("moxing.tensorflow.no_such_module")
    except ModuleNotFoundError as exc:
        assert "moxing.tensorflow.no_such_module" in str(exc)
    else:
        raise AssertionError("moxing.tensorflow.no_such_module imported")
