"""mox.file over local paths: the API of MoXing's moxing.framework.file, with clear errors."""

from __future__ import annotations

import os

import pytest

import mox_core as mox
import moxing
from mox_core.file import (
    FileStat,
    MoxFileDirectoryNotEmptyException,
    MoxFileIsDirectoryException,
    MoxFileNotExistsException,
    UnsupportedSchemeError,
    dispatch,
)


@pytest.fixture
def tree(tmp_path):
    """tmp/a.txt, tmp/d/b.txt, tmp/d/e/c.txt"""
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "a.txt").write_text("alpha")
    (tmp_path / "d" / "b.txt").write_text("beta")
    (tmp_path / "d" / "e" / "c.txt").write_text("gamma")
    return tmp_path


def test_mox_file_is_one_module_under_every_import_name():
    import moxing.tensorflow as mox_tf

    assert mox.file is moxing.file is mox_tf.file


def test_read_write_append_and_binary(tmp_path):
    path = str(tmp_path / "f.txt")
    mox.file.write(path, "héllo")
    mox.file.append(path, " world")
    assert mox.file.read(path) == "héllo world"
    assert mox.file.read(path, binary=True) == "héllo world".encode()
    mox.file.write(path, b"\x00\x01", binary=True)
    assert mox.file.read(path, binary=True) == b"\x00\x01"


def test_queries_and_listings(tree):
    root = str(tree)
    assert mox.file.exists(root + "/a.txt") and not mox.file.exists(root + "/nope")
    assert mox.file.is_directory(root + "/d") and not mox.file.is_directory(root + "/a.txt")
    assert mox.file.list_directory(root + "/d") == ["b.txt", "e"]
    assert mox.file.list_directory(root + "/d", recursive=True) == ["b.txt", "e", "e/c.txt"]
    assert mox.file.list_directory(root + "/d", skip_dir=True) == ["b.txt"]
    assert mox.file.list_directory(root + "/d", skip_file=True) == ["e"]
    assert mox.file.glob(root + "/d/*.txt") == [root + "/d/b.txt"]
    assert [w[0] for w in mox.file.walk(root + "/d")] == [root + "/d", root + "/d/e"]
    assert mox.file.get_size(root + "/d", recursive=True) == len("beta") + len("gamma")
    info = mox.file.stat(root + "/a.txt")
    assert isinstance(info, FileStat) and info.length == 5 and not info.is_directory
    assert info.mtime_nsec == os.stat(root + "/a.txt").st_mtime_ns
    assert mox.file.stat(root + "/d").is_directory


def test_file_urls_are_local_paths(tree):
    assert mox.file.read(f"file://{tree}/a.txt") == "alpha"


def test_file_objects(tmp_path):
    path = str(tmp_path / "log.txt")
    with mox.file.File(path, "w") as handle:
        handle.write("one\ntwo\n")
    with mox.file.File(path, "a") as handle:
        handle.writelines(["three\n"])
    with mox.file.File(path) as handle:
        assert handle.readline() == "one\n" and handle.readlines() == ["two\n", "three\n"]
        assert handle.size() == 14
    with mox.file.File(path, "rb") as handle:
        handle.seek(4)
        assert handle.read(3) == b"two" and handle.tell() == 7
    assert handle.closed
    with pytest.raises(ValueError, match="invalid mode"):
        mox.file.File(path, "rw")


def test_make_dirs_and_mk_dir(tmp_path):
    mox.file.make_dirs(str(tmp_path / "x" / "y"))
    mox.file.make_dirs(str(tmp_path / "x" / "y"))  # exists: nothing happens
    assert (tmp_path / "x" / "y").is_dir()
    mox.file.mk_dir(str(tmp_path / "x" / "z"))
    with pytest.raises(MoxFileNotExistsException, match="parent"):
        mox.file.mk_dir(str(tmp_path / "no" / "such"))


def test_copy_one_file_makes_the_target_folder(tree):
    mox.file.copy(str(tree / "a.txt"), str(tree / "out" / "copy.txt"))
    assert (tree / "out" / "copy.txt").read_text() == "alpha"


def test_copy_of_a_folder_is_a_clear_error(tree):
    with pytest.raises(MoxFileIsDirectoryException, match="copy_parallel") as caught:
        mox.file.copy(str(tree / "d"), str(tree / "d2"))
    assert str(tree / "d") in str(caught.value)
    assert isinstance(caught.value, IsADirectoryError)


def test_copy_into_a_folder_asks_for_the_target_file(tree):
    with pytest.raises(MoxFileIsDirectoryException, match="full path"):
        mox.file.copy(str(tree / "a.txt"), str(tree / "d"))


def test_missing_files_are_named(tree):
    missing = str(tree / "missing.txt")
    for call in (lambda: mox.file.read(missing), lambda: mox.file.stat(missing),
                 lambda: mox.file.remove(missing), lambda: mox.file.copy(missing, missing + "2"),
                 lambda: mox.file.list_directory(missing), lambda: mox.file.File(missing)):
        with pytest.raises(MoxFileNotExistsException) as caught:
            call()
        assert missing in str(caught.value)
        assert isinstance(caught.value, FileNotFoundError)


def test_remove_refuses_a_non_empty_folder_without_recursive(tree):
    with pytest.raises(MoxFileDirectoryNotEmptyException, match="recursive=True"):
        mox.file.remove(str(tree / "d"))
    assert (tree / "d" / "b.txt").exists()
    mox.file.remove(str(tree / "d"), recursive=True)
    assert not (tree / "d").exists()
    (tree / "empty").mkdir()
    mox.file.remove(str(tree / "empty"))
    mox.file.remove(str(tree / "a.txt"))
    assert os.listdir(tree) == []


def test_copy_parallel_copies_a_tree_and_keeps_what_is_there(tree, tmp_path_factory):
    target = tmp_path_factory.mktemp("target")
    (target / "keep.txt").write_text("mine")
    mox.file.copy_parallel(str(tree), str(target), threads=2)
    assert (target / "d" / "e" / "c.txt").read_text() == "gamma"
    assert (target / "keep.txt").read_text() == "mine"
    only = tmp_path_factory.mktemp("only")
    mox.file.copy_parallel(str(tree), str(only), file_list=["d/b.txt"])
    assert sorted(str(p.relative_to(only)) for p in only.rglob("*.txt")) == ["d/b.txt"]


def test_rename_files_and_folders(tree):
    mox.file.rename(str(tree / "d"), str(tree / "moved"))
    mox.file.rename(str(tree / "a.txt"), str(tree / "moved" / "a.txt"))
    assert sorted(os.listdir(tree / "moved")) == ["a.txt", "b.txt", "e"]


def test_an_unregistered_scheme_names_what_is_installed():
    with pytest.raises(UnsupportedSchemeError, match="cannot open hdfs:// URLs"):
        mox.file.read("hdfs://namenode/x")


def test_other_schemes_go_to_the_registered_backend(monkeypatch):
    """Dispatch goes through the filesystems registry: a scheme a plugin registers is served by
    its backend class, made once per scheme."""
    from mox_core.file.backend import Backend
    from mox_core.registry import FilesystemSpec, Registry

    class MemoryBackend(Backend):
        objects: dict[str, bytes] = {}

        def exists(self, url):
            return url in self.objects

        def is_directory(self, url):
            return False

        def read(self, url):
            return self.objects[url]

        def write(self, url, data):
            self.objects[url] = data

    registry = Registry("URL scheme", [("mox-core", [
        FilesystemSpec("file", "mox_core.file.local:LocalBackend"),
        FilesystemSpec("mem", MemoryBackend)])])
    monkeypatch.setattr(dispatch, "registry", lambda kind: registry)
    dispatch.reset()
    try:
        mox.file.write("mem://x", "in memory")
        assert mox.file.read("mem://x") == "in memory" and MemoryBackend.objects
        assert dispatch.backend_for("mem://y") is dispatch.backend_for("mem://x")
        assert mox.file.is_remote("mem://x") and not mox.file.is_remote("/tmp/x")
    finally:
        dispatch.reset()


def test_set_auth_without_a_remote_backend_only_warns(caplog, monkeypatch):
    from mox_core.registry import FilesystemSpec, Registry

    local_only = Registry("URL scheme", [("mox-core", [
        FilesystemSpec("file", "mox_core.file.local:LocalBackend")])])
    monkeypatch.setattr(dispatch, "registry", lambda kind: local_only)
    mox.file.set_auth(ak="a", sk="secret-value")
    assert "nothing to configure" in caplog.text and "secret-value" not in caplog.text


def test_shift_leaves_local_paths_alone_and_undoes_itself(tree):
    original = open
    mox.file.shift("os", "mox")
    try:
        with open(tree / "a.txt") as handle:
            assert handle.read() == "alpha"
        assert os.path.exists(tree / "a.txt") and sorted(os.listdir(tree)) == ["a.txt", "d"]
    finally:
        mox.file.shift("mox", "os")
    assert open is original
    with pytest.raises(ValueError, match="shift"):
        mox.file.shift("os", "hdfs")


def test_the_local_filesystem_is_registered_by_the_core():
    from mox_core import plugins

    assert plugins.registry("filesystems").get("file").distribution == "mox-core"


def test_file_url_trees_copy_and_count_like_paths(tree, tmp_path):
    source = f"file://{tree}/d"
    mox.file.copy_parallel(source, str(tmp_path / "copy"))
    assert sorted(str(p.relative_to(tmp_path / "copy")) for p in (tmp_path / "copy").rglob("*")
                  if p.is_file()) == ["b.txt", "e/c.txt"]
    assert mox.file.get_size(source, recursive=True) == len("beta") + len("gamma")
