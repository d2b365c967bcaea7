"""How the datasets tell paths apart: a URL, a URL that mox.file serves, a local path."""

from __future__ import annotations

import pytest

import mox_core as mox
from mox_core.datasets import fs

PLUGIN = """
    from mox_core import hookimpl
    from mox_core.registry import FilesystemSpec

    @hookimpl
    def mox_filesystems():
        return [FilesystemSpec("mem", "fake_mem_backend:MemoryBackend")]
"""


@pytest.fixture
def mem_scheme(fake_dists):
    """A plugin that serves ``mem://`` through mox.file (asking whether it does needs no
    backend yet: the backend is made on first use)."""
    fake_dists.add("fake-mem", {"fake_mem_plugin": PLUGIN}, {"mem": "fake_mem_plugin"})


@pytest.mark.parametrize("path, is_url, served_by_mox_file", [
    ("/data/flowers/daisy/1.jpg", False, False),
    ("flowers/labels.txt", False, False),
    ("file:///data/flowers", True, False),  # a URL, read by TensorFlow's local filesystem
    ("gs://bucket/flowers", True, False),  # a URL no mox plugin serves: TensorFlow's gfile
    ("mem://bucket/flowers", True, True),  # the plugin's scheme, through mox.file
])
def test_a_url_is_read_by_mox_file_only_when_a_plugin_serves_its_scheme(
        mem_scheme, path, is_url, served_by_mox_file):
    assert fs.is_url(path) is is_url
    assert fs.served_by_mox_file(path) is served_by_mox_file
    assert mox.file.is_remote(path) is served_by_mox_file


def test_urls_join_with_slashes_and_local_paths_with_the_os_separator(tmp_path):
    assert fs.join("gs://bucket/data", "a", "b.png") == "gs://bucket/data/a/b.png"
    assert fs.join(str(tmp_path), "a") == str(tmp_path / "a")
