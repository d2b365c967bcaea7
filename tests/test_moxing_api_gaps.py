"""API gaps that published MoXing scripts hit: run without batch_size, readers as ``mox.X``,
MoXing's module paths and ``split_image_classification_dataset``."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import re
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from executor_models import TRUE_W, X, Y, linear_model_fn, read_variable, sgd
from PIL import Image

import mox_core as mox


def batches_from_a_generator(batch=8, batches=40):
    """The getting-started tutorial's input: input_fn batches itself from a Python generator."""

    def generate():
        for index in range(batches):
            start = (index * batch) % len(X)
            yield X[start:start + batch], Y[start:start + batch]

    def input_fn(mode):
        data = tf.data.Dataset.from_generator(
            generate, (tf.float32, tf.float32), ([None, 4], [None, 1]))
        return tf.data.make_one_shot_iterator(data).get_next()

    return input_fn


def test_run_without_batch_size_trains_on_the_batches_input_fn_returns(tmp_path, caplog):
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        # No batch_size, and max_number_of_steps far beyond the data (the tutorial's
        # sys.maxint): the run ends when the generator is exhausted, with a checkpoint.
        mox.run(input_fn=batches_from_a_generator(), model_fn=linear_model_fn,
                optimizer_fn=sgd(), run_mode=mox.ModeKeys.TRAIN, log_dir=str(tmp_path),
                max_number_of_steps=sys.maxsize, log_every_n_steps=10)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-40")
    np.testing.assert_allclose(read_variable(tmp_path), TRUE_W, atol=0.2)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("step: ")]
    assert [line.split("(")[0] for line in lines] == ["step: 0", "step: 10", "step: 20",
                                                      "step: 30"]
    assert all(re.search(r"\tsample/sec: \d+\.\d{3}\t", line) for line in lines)


def test_run_without_batch_size_evaluates_every_batch(tmp_path):
    mox.run(input_fn=batches_from_a_generator(), model_fn=linear_model_fn, optimizer_fn=sgd(),
            run_mode=mox.ModeKeys.TRAIN, log_dir=str(tmp_path), max_number_of_steps=40)
    metrics = mox.run(input_fn=batches_from_a_generator(batches=8), model_fn=linear_model_fn,
                      run_mode=mox.ModeKeys.EVAL, checkpoint_path=str(tmp_path))
    assert metrics["loss"] < 0.05


def test_run_without_batch_size_splits_each_batch_between_towers(tmp_path):
    saved = mox.get_flag("num_gpus")

    def model_fn(inputs, mode):
        spec = linear_model_fn(inputs, mode)
        spec.log_info["rows"] = tf.cast(tf.shape(inputs[0])[0], tf.float32)
        return spec

    mox.set_flag("num_gpus", 2)
    try:
        result = mox.run(input_fn=batches_from_a_generator(batch=6, batches=3),
                         model_fn=model_fn, optimizer_fn=sgd(), run_mode=mox.ModeKeys.TRAIN,
                         log_dir=str(tmp_path), max_number_of_steps=3)
    finally:
        mox.set_flag("num_gpus", saved)
    assert result["rows"] == 3  # tower 0's half of each batch of 6 (log_first_clone)


def test_export_after_training_without_batch_size(tmp_path):
    mox.run(input_fn=batches_from_a_generator(batches=5), model_fn=linear_model_fn,
            optimizer_fn=sgd(), run_mode=mox.ModeKeys.TRAIN, log_dir=str(tmp_path),
            max_number_of_steps=5, export_model=mox.ExportKeys.TF_SERVING)
    exported = tf.saved_model.load_v2(str(tmp_path / "1"))
    outputs = exported.signatures["predict_object"](x=tf.constant(X[:3]))
    assert outputs["prediction"].shape == (3, 1)


def test_readers_of_plugins_are_attributes_and_a_missing_one_names_its_distribution():
    from mox_core.datasets import get_reader_class

    assert mox.ParallelReader is get_reader_class("ParallelReader")
    try:
        importlib.metadata.version("mox-datasets-obs")
    except importlib.metadata.PackageNotFoundError:
        with pytest.raises(AttributeError, match=r"mox\.AsyncRawGenerator is not available: "
                           r".*provided by the distribution 'mox-datasets-obs', which is not "
                           r"installed: pip install mox-datasets-obs"):
            mox.AsyncRawGenerator  # noqa: B018
    else:  # the OBS plugin's own tests check the class; here only that the name resolves
        assert mox.AsyncRawGenerator.__name__ == "AsyncRawGenerator"
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchReader'"):
        mox.NoSuchReader  # noqa: B018


def test_moxing_module_paths_of_published_notebooks_resolve():
    from moxing.tensorflow.datasets.raw.raw_dataset import split_image_classification_dataset
    from moxing.tensorflow.datasets.reader import raw_reader

    assert raw_reader.split_image_classification_dataset is split_image_classification_dataset
    assert mox.split_image_classification_dataset is split_image_classification_dataset
    from moxing.tensorflow.datasets.raw import raw_dataset

    assert raw_dataset.ImageClassificationRawDataset is mox.ImageClassificationRawDataset


def write_flowers(root, counts):
    for name, count in counts.items():
        os.makedirs(root / name)
        for index in range(count):
            Image.new("RGB", (8, 8), (index * 9 % 255, 0, 0)).save(root / name / f"{index}.jpg")


def test_split_image_classification_dataset_cuts_every_class_by_the_ratios(tmp_path):
    write_flowers(tmp_path / "flower_photos", {"daisy": 10, "roses": 7, "tulips": 2})
    counts = mox.split_image_classification_dataset(
        split_spec={"train": 0.8, "eval": 0.2}, src_dir=str(tmp_path / "flower_photos"),
        dst_dir=str(tmp_path / "flowers_split"), overwrite=False)
    split = tmp_path / "flowers_split"
    per_class = {part: {c: len(os.listdir(split / part / c)) for c in ("daisy", "roses", "tulips")}
                 for part in ("train", "eval")}
    assert per_class == {"train": {"daisy": 8, "roses": 6, "tulips": 1},
                         "eval": {"daisy": 2, "roses": 1, "tulips": 1}}
    assert counts == {"train": 15, "eval": 4}
    for part in ("train", "eval"):
        assert (split / part / "labels.txt").is_file()  # the same label order in every part
        meta = mox.ImageClassificationRawMetadata(str(split / part))
        assert meta.labels_list == ["daisy", "roses", "tulips"]
    train = {str(p.relative_to(split / "train")) for p in (split / "train").rglob("*.jpg")}
    held_out = {str(p.relative_to(split / "eval")) for p in (split / "eval").rglob("*.jpg")}
    assert not train & held_out and len(train | held_out) == 19


def test_split_again_needs_overwrite_and_is_deterministic(tmp_path):
    write_flowers(tmp_path / "src", {"a": 6, "b": 6})
    args = dict(split_spec={"train": 0.5, "eval": 0.5}, src_dir=str(tmp_path / "src"),
                dst_dir=str(tmp_path / "dst"))
    mox.split_image_classification_dataset(**args)
    first = sorted(os.listdir(tmp_path / "dst" / "eval" / "a"))
    with pytest.raises(ValueError, match=r"split part folder '.*dst/train' already holds files; "
                                         r"pass overwrite=True"):
        mox.split_image_classification_dataset(**args)
    mox.split_image_classification_dataset(overwrite=True, **args)
    assert sorted(os.listdir(tmp_path / "dst" / "eval" / "a")) == first


@pytest.mark.parametrize("split_spec, message", [
    ({"train": 0.9, "eval": 0.2}, "must add up to 1"),
    ({"train": 1.0, "../escape": 0.0}, "not a plain folder name"),
    ({"train": 1.0, "eval": -0.1}, "ratio of 'eval' must be a number > 0"),
    ([0.9, 0.1], "split_spec must be a dict"),
])
def test_split_spec_errors_name_the_problem(tmp_path, split_spec, message):
    write_flowers(tmp_path / "src", {"a": 2})
    with pytest.raises(ValueError, match=re.escape(message)):
        mox.split_image_classification_dataset(split_spec, str(tmp_path / "src"),
                                               str(tmp_path / "dst"))
    assert not (tmp_path / "dst").exists()


def test_moxing_utils_and_framework_paths_of_published_scripts(caplog):
    from moxing.tensorflow.utils import tf_util
    from moxing.tensorflow.utils.hyper_param_flags import mox_flags

    from moxing.framework import file
    from moxing.framework.util import compat, runtime

    assert file is mox.file
    assert tf_util.version_info() > (1, 13, 0)  # the iceberg sample's branch
    assert tf_util.version_info()[:2] == tuple(int(p) for p in tf.__version__.split(".")[:2])
    assert "--num_gpus: " in mox_flags.get_help() and mox_flags.num_gpus == mox.get_flag("num_gpus")
    with pytest.raises(AttributeError, match="unknown flag 'num_gpu'. Closest known flags: "
                                             "num_gpus"):
        mox_flags.num_gpu  # noqa: B018
    assert compat.as_str(b"iceberg") == "iceberg" and compat.as_bytes("a") == b"a"
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    try:
        runtime.reset_logger(logging.WARNING)
        caplog.clear()
        with caplog.at_level(logging.NOTSET):
            tf.logging.info("hidden")
            tf.logging.warning("shown")
        assert [r.getMessage() for r in caplog.records] == ["shown"]
        with pytest.raises(ValueError, match="logging level"):
            runtime.reset_logger("LOUD")
    finally:
        tf_logger.setLevel(level)


def test_moxing_services_mox_lacks_say_what_to_do_instead():
    with pytest.raises(AttributeError, match="hyper-parameter search service, which mox does not "
                                             "provide; run mox.run with fixed"):
        mox.auto  # noqa: B018
    with pytest.raises(AttributeError, match="return the input tensors"):
        mox.InputSpec  # noqa: B018
    with pytest.raises(ModuleNotFoundError, match="hyper-parameter search service"):
        import moxing.tensorflow.auto  # noqa: F401
