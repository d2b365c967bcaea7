"""mox.file on obs:// and s3:// against a real S3-compatible server."""

from __future__ import annotations

import os

import pytest

import moxing as mox
from mox_core.file import (
    MoxFileDirectoryNotEmptyException,
    MoxFileIsDirectoryException,
    MoxFileNotExistsException,
)


def test_write_read_and_stat_an_object(bucket):
    url = f"obs://{bucket}/notes/hello.txt"
    mox.file.write(url, "héllo")
    assert mox.file.exists(url) and not mox.file.is_directory(url)
    assert mox.file.read(url) == "héllo"
    assert mox.file.read(url, binary=True) == "héllo".encode()
    info = mox.file.stat(url)
    assert info.length == 6 and not info.is_directory and info.mtime_nsec > 0
    assert mox.file.stat(f"obs://{bucket}/notes").is_directory


def test_s3_and_obs_urls_name_the_same_objects(bucket):
    mox.file.write(f"s3://{bucket}/a.bin", b"\x00\x01")
    assert mox.file.read(f"obs://{bucket}/a.bin", binary=True) == b"\x00\x01"


def test_folders_are_prefixes_listed_like_os_listdir(bucket):
    for key in ("d/x.txt", "d/y.txt", "d/sub/z.txt", "d/sub/deep/w.txt", "e.txt"):
        mox.file.write(f"obs://{bucket}/{key}", key)
    root = f"obs://{bucket}"
    assert mox.file.list_directory(root) == ["d", "e.txt"]
    assert mox.file.list_directory(root + "/d") == ["sub", "x.txt", "y.txt"]
    assert mox.file.list_directory(root + "/d/", recursive=True) == [
        "sub", "sub/deep", "sub/deep/w.txt", "sub/z.txt", "x.txt", "y.txt"]
    assert mox.file.list_directory(root + "/d", skip_dir=True) == ["x.txt", "y.txt"]
    assert mox.file.glob(root + "/d/*.txt") == [root + "/d/x.txt", root + "/d/y.txt"]
    assert mox.file.glob(root + "/*/sub/*.txt") == [root + "/d/sub/z.txt"]
    walked = list(mox.file.walk(root + "/d"))
    assert walked == [(root + "/d", ["sub"], ["x.txt", "y.txt"]),
                      (root + "/d/sub", ["deep"], ["z.txt"]),
                      (root + "/d/sub/deep", [], ["w.txt"])]
    assert mox.file.get_size(root + "/d", recursive=True) == sum(
        len(k) for k in ("d/x.txt", "d/y.txt", "d/sub/z.txt", "d/sub/deep/w.txt"))


def test_make_dirs_makes_an_empty_folder_that_lists_empty(bucket):
    url = f"obs://{bucket}/empty/inner"
    mox.file.make_dirs(url)
    assert mox.file.is_directory(url) and mox.file.list_directory(url) == []
    with pytest.raises(MoxFileNotExistsException, match="parent"):
        mox.file.mk_dir(f"obs://{bucket}/no/such/parent")


def test_file_objects_read_write_append_and_seek(bucket):
    url = f"obs://{bucket}/log.txt"
    with mox.file.File(url, "w") as handle:
        handle.write("one\ntwo\n")
        assert handle.size() == 8
        assert not mox.file.exists(url)  # published on close
    with mox.file.File(url, "a") as handle:
        handle.write("three\n")
    with mox.file.File(url) as handle:
        assert handle.readline() == "one\n"
        assert list(handle) == ["two\n", "three\n"]
    with mox.file.File(url, "rb") as handle:
        handle.seek(4)
        assert handle.read(3) == b"two"
        assert handle.tell() == 7 and handle.size() == 14
    with mox.file.File(url, "r+") as handle:
        handle.seek(0)
        handle.write("ONE")
    assert mox.file.read(url) == "ONE\ntwo\nthree\n"


def test_a_large_object_streams_in_bounded_chunks(bucket):
    url = f"obs://{bucket}/big.bin"
    payload = os.urandom(3 << 20)
    mox.file.write(url, payload)
    with mox.file.File(url, "rb") as handle:
        handle.seek(1 << 20)
        assert handle.read(16) == payload[1 << 20:(1 << 20) + 16]
        handle.seek(-4, os.SEEK_END)
        assert handle.read() == payload[-4:]


def test_copy_one_file_between_local_and_object_storage(bucket, tmp_path):
    local = tmp_path / "in.txt"
    local.write_text("payload")
    mox.file.copy(str(local), f"obs://{bucket}/copied/in.txt")
    mox.file.copy(f"obs://{bucket}/copied/in.txt", f"s3://{bucket}/copied/again.txt")
    mox.file.copy(f"obs://{bucket}/copied/again.txt", str(tmp_path / "out" / "back.txt"))
    assert (tmp_path / "out" / "back.txt").read_text() == "payload"


def test_copy_of_a_folder_is_a_clear_error_pointing_at_copy_parallel(bucket, tmp_path):
    mox.file.write(f"obs://{bucket}/tree/a.txt", "a")
    with pytest.raises(MoxFileIsDirectoryException, match="copy_parallel"):
        mox.file.copy(f"obs://{bucket}/tree", str(tmp_path / "tree"))


def test_copy_parallel_copies_a_tree_both_ways_and_deletes_nothing(bucket, tmp_path):
    source = tmp_path / "src"
    (source / "a" / "b").mkdir(parents=True)
    for index in range(20):
        (source / "a" / f"{index}.txt").write_text(str(index))
    (source / "a" / "b" / "deep.txt").write_text("deep")
    mox.file.copy_parallel(str(source), f"obs://{bucket}/mirror", threads=4)
    assert len(mox.file.list_directory(f"obs://{bucket}/mirror/a")) == 21
    target = tmp_path / "dst"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    mox.file.copy_parallel(f"obs://{bucket}/mirror", str(target))
    assert (target / "a" / "b" / "deep.txt").read_text() == "deep"
    assert (target / "a" / "7.txt").read_text() == "7"
    assert (target / "keep.txt").read_text() == "mine"
    only = tmp_path / "only"
    mox.file.copy_parallel(f"obs://{bucket}/mirror", str(only), file_list=["a/3.txt"])
    assert [p.name for p in only.rglob("*") if p.is_file()] == ["3.txt"]


def test_remove_refuses_a_non_empty_folder_without_recursive(bucket):
    mox.file.write(f"obs://{bucket}/full/x.txt", "x")
    mox.file.write(f"obs://{bucket}/full/sub/y.txt", "y")
    with pytest.raises(MoxFileDirectoryNotEmptyException, match="recursive=True"):
        mox.file.remove(f"obs://{bucket}/full")
    assert mox.file.exists(f"obs://{bucket}/full/x.txt")
    mox.file.remove(f"obs://{bucket}/full", recursive=True)
    assert not mox.file.exists(f"obs://{bucket}/full")
    with pytest.raises(MoxFileNotExistsException, match="full"):
        mox.file.remove(f"obs://{bucket}/full")


def test_rename_moves_files_and_folders_also_to_local(bucket, tmp_path):
    mox.file.write(f"obs://{bucket}/old/a.txt", "a")
    mox.file.rename(f"obs://{bucket}/old", f"obs://{bucket}/new")
    assert mox.file.list_directory(f"obs://{bucket}/new") == ["a.txt"]
    assert not mox.file.exists(f"obs://{bucket}/old")
    mox.file.rename(f"obs://{bucket}/new/a.txt", str(tmp_path / "a.txt"))
    assert (tmp_path / "a.txt").read_text() == "a"
    assert not mox.file.exists(f"obs://{bucket}/new/a.txt")
