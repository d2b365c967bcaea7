"""Bad data and bad checkpoints through ``mox train | eval``: each is exit status 2 and one
``mox: error:`` line naming the file (and ``--skip-corrupt`` where it helps), never a traceback
or a run that ends with exit 0 and a useless model. The network is a one-layer test plugin."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from test_cli_jobs import POOL_NET, POOL_NET_PLUGIN
from test_datasets_corrupt_records import record_offset, shard_path, write_shard
from test_datasets_support import make_class_folders


@pytest.fixture
def mox_cli(fake_dists):
    """``mox ARGS`` in a subprocess, with the ``fake_pool`` network installed."""
    fake_dists.add("fake-pool", {"fake_pool_plugin": POOL_NET_PLUGIN, "fake_pool_net": POOL_NET},
                   {"pool": "fake_pool_plugin"})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake_dists.root), *sys.path]),
           "TF_CPP_MIN_LOG_LEVEL": "2"}

    def run(*args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mox_core.cli", *map(str, args)],
                              capture_output=True, text=True, timeout=300, env=env)

    return run


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if "mox: error" in line]


def train(mox_cli, data, log_dir, *more):
    return mox_cli("train", "--net", "fake_pool", "--data", data, "--log-dir", log_dir,
                   "--max-steps", 3, "--batch-size", 2, "--quiet", *more)


def test_skip_corrupt_that_leaves_a_class_empty_fails_naming_the_class(mox_cli, tmp_path):
    data = tmp_path / "data"
    make_class_folders(data, {"cats": 3, "dogs": 3})
    for path in (data / "dogs").iterdir():
        path.write_bytes(b"not an image")
    result = train(mox_cli, data, tmp_path / "log", "--skip-corrupt")
    assert error_lines(result) == [
        f"mox: error: no readable image is left in class folder {data / 'dogs'}: all 3 image "
        f"files of class 'dogs' (label 1) were skipped as unreadable or corrupt, and a model "
        f"trained without them never predicts that class. Fix or replace those files, or remove "
        f"the class (its folder and its line in the labels file)."]
    assert result.stderr.count("Skipping image") == 3  # each file once
    for path in (data / "cats").iterdir():
        path.write_bytes(b"")
    result = train(mox_cli, data, tmp_path / "log2", "--skip-corrupt")
    (line,) = error_lines(result)  # every image bad: the first class found empty is named
    assert line.startswith(f"mox: error: no readable image is left in class folder {data}")


def test_corrupt_and_incomplete_tfrecords_are_named_with_the_cli_option(mox_cli, tmp_path):
    data = tmp_path / "records"
    for index in range(3):
        write_shard(data, index)
    (data / "labels.txt").write_text("0:daisy\n1:roses\n2:tulips\n")
    damaged = shard_path(data, 1)
    offset = record_offset(damaged, 1)
    content = bytearray(damaged.read_bytes())
    content[offset + 30] ^= 0xFF
    damaged.write_bytes(bytes(content))
    result = train(mox_cli, data, tmp_path / "log")
    assert error_lines(result) == [
        f"mox: error: corrupt TFRecord file {damaged}: the record at byte {offset} is corrupt: "
        f"its checksum does not match. Restore the file or convert the dataset again, or pass "
        f"--skip-corrupt to skip such files."]
    result = train(mox_cli, data, tmp_path / "log2", "--skip-corrupt")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(f"Skipping the rest of TFRecord file {damaged}") == 1
    shard_path(data, 2).unlink()
    result = mox_cli("eval", "--checkpoint", tmp_path / "log2", "--data",
                     data / "*_train_*.tfrecord")
    assert error_lines(result) == [
        f"mox: error: incomplete TFRecord shard set in {data}: 1 shard(s) of the set are "
        f"missing: 'flowers_train_00002-of-00003.tfrecord'. Restore the missing shards or "
        f"convert the dataset again."]


def test_a_checkpoint_that_is_not_one_names_the_path(mox_cli, tmp_path):
    data = tmp_path / "data"
    make_class_folders(data, {"cats": 2, "dogs": 2})
    log_dir = tmp_path / "log"
    assert train(mox_cli, data, log_dir).returncode == 0
    index = next(log_dir.glob("model.ckpt-3.index"))
    index.write_bytes(index.read_bytes()[:10])  # a damaged index: not an sstable any more
    result = mox_cli("eval", "--checkpoint", log_dir / "model.ckpt-3", "--data", data)
    (line,) = error_lines(result)
    assert line == (
        f"mox: error: --checkpoint '{log_dir / 'model.ckpt-3'}' cannot be read as a checkpoint: "
        f"file is too short to be an sstable; a checkpoint is a prefix such as "
        f"log_dir/model.ckpt-100 whose .index and .data-00000-of-00001 files tf.train.Saver "
        f"wrote, or a folder holding such files and the 'checkpoint' file naming them")
    result = mox_cli("eval", "--checkpoint", index, "--data", data)
    assert error_lines(result)[0].endswith(f": give the prefix '{log_dir / 'model.ckpt-3'}' "
                                           f"instead")


def test_a_damaged_newest_checkpoint_is_named_with_the_one_before_it(mox_cli, tmp_path):
    data = tmp_path / "data"
    make_class_folders(data, {"cats": 2, "dogs": 2})
    log_dir = tmp_path / "log"
    assert train(mox_cli, data, log_dir, "--save-model-steps", 2).returncode == 0
    (damaged,) = log_dir.glob("model.ckpt-3.data-*")
    damaged.write_bytes(damaged.read_bytes()[:20])  # the index still reads: only data is cut
    prefix, earlier = log_dir / "model.ckpt-3", log_dir / "model.ckpt-2"
    resumed = mox_cli("train", "--net", "fake_pool", "--data", data, "--log-dir", log_dir,
                      "--max-steps", 5, "--quiet")
    (line,) = error_lines(resumed)
    assert line.startswith(f"mox: error: log_dir '{log_dir}' holds a damaged checkpoint: its "
                           f"newest, {prefix}, cannot be read (")
    assert line.endswith(f"). Training resumes from the newest checkpoint: delete its files "
                         f"({prefix}.*) and its lines in {log_dir}/checkpoint to resume from the "
                         f"one before it, {earlier}, or train into another log_dir")
    evaluated = mox_cli("eval", "--checkpoint", log_dir, "--data", data)
    assert error_lines(evaluated)[0].startswith(
        f"mox: error: --checkpoint '{log_dir}' (its newest checkpoint {prefix}) cannot be read "
        f"as a checkpoint: ")
    warm = train(mox_cli, data, tmp_path / "log2", "--checkpoint", prefix)
    assert error_lines(warm)[0].startswith(f"mox: error: --checkpoint '{prefix}' cannot be read")
