"""shift('os', 'mox'): open, os, shutil and tf.io.gfile take obs:// URLs."""

from __future__ import annotations

import os
import shutil

import pytest

from mox_core import file as mox_file


@pytest.fixture
def shifted(obs_env):
    mox_file.shift("os", "mox")
    yield
    mox_file.shift("mox", "os")


def test_open_os_and_shutil_take_urls(bucket, shifted, tmp_path):
    root = f"obs://{bucket}/shifted"
    os.makedirs(root + "/sub")
    with open(root + "/sub/a.txt", "w") as handle:
        handle.write("alpha")
    assert os.path.exists(root + "/sub/a.txt") and os.path.isdir(root + "/sub")
    assert os.listdir(root) == ["sub"] and os.path.getsize(root + "/sub/a.txt") == 5
    shutil.copytree(root, str(tmp_path / "copy"))
    assert (tmp_path / "copy" / "sub" / "a.txt").read_text() == "alpha"
    shutil.rmtree(root)
    assert not os.path.exists(root)
    local = tmp_path / "local.txt"  # local paths are untouched
    with open(local, "w") as handle:
        handle.write("x")
    assert "local.txt" in os.listdir(tmp_path) and local.read_text() == "x"


def test_tf_io_gfile_reads_registered_urls(bucket, shifted):
    import tensorflow as tf

    url = f"obs://{bucket}/g/a.txt"
    with tf.io.gfile.GFile(url, "w") as handle:
        handle.write("from gfile")
    assert tf.io.gfile.exists(url) and tf.io.gfile.isdir(f"obs://{bucket}/g")
    assert tf.io.gfile.listdir(f"obs://{bucket}/g") == ["a.txt"]
    assert tf.io.gfile.glob(f"obs://{bucket}/g/*.txt") == [url]
    assert tf.io.gfile.stat(url).length == 10
    assert tf.compat.v1.gfile.Exists(url)
    with tf.io.gfile.GFile(url, "rb") as handle:
        assert handle.read() == b"from gfile"


def test_shift_back_restores_the_originals(obs_env):
    original_open = open
    mox_file.shift("os", "mox")
    assert open is not original_open and mox_file.shift.__module__
    mox_file.shift("mox", "os")
    assert open is original_open
    with pytest.raises(FileNotFoundError):
        open("obs://bucket-name/x")
