"""Names that would leave their folder are refused by one rule (``mox_core.file.safe_paths``).

The object-storage cases (hostile keys in a listing) are in the OBS plugin's
``tests/test_safe_keys.py``; here the rule itself, ``file_list`` entries of local copies, the
dataset cache of a local folder, and the exit status when the refusal happens at exit.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest

import mox_core as mox
from mox_core.datasets.cache import cache_files
from mox_core.file.errors import MoxFileException, MoxFileUnsafePathException
from mox_core.file.safe_paths import safe_join, unsafe_reason


@pytest.mark.parametrize("name", [
    "../x", "a/../../x", "a/..", "..", "..\\x", "a\\..\\..\\x", "C:x", "c:/x", "\\\\srv\\share\\x",
    "", "/", ".", "./.", "a\0b",
])
def test_names_that_leave_or_name_nothing_are_refused(tmp_path, name):
    assert unsafe_reason(name) is not None
    with pytest.raises(MoxFileUnsafePathException) as caught:
        safe_join(str(tmp_path), name)
    assert caught.value.refused == [name]
    assert repr(name) in str(caught.value) and str(tmp_path) in str(caught.value)
    assert isinstance(caught.value, MoxFileException) and isinstance(caught.value, OSError)


@pytest.mark.parametrize(("name", "expected"), [
    ("a/b.txt", "a/b.txt"), ("a//b.txt", "a/b.txt"), ("/etc/x", "etc/x"), ("./a/./b", "a/b"),
    ("...", "..."), ("..a", "..a"), ("a..b/c", "a..b/c"), ("a\\b", "a\\b"),
])
def test_key_names_stay_inside_and_doubled_slashes_collapse(tmp_path, name, expected):
    assert safe_join(str(tmp_path), name) == os.path.join(str(tmp_path), *expected.split("/"))


def test_paths_with_a_leading_separator_are_absolute_when_not_keys(tmp_path):
    assert "absolute" in unsafe_reason("/etc/passwd", keys=False)
    with pytest.raises(MoxFileUnsafePathException, match="absolute"):
        safe_join(str(tmp_path), "/etc/passwd", keys=False)
    assert safe_join(str(tmp_path), "a//b", keys=False) == os.path.join(str(tmp_path), "a", "b")


@pytest.fixture
def folders(tmp_path):
    """``src`` with two files, a ``sibling.txt`` next to it, and an empty place for ``dst``."""
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "d" / "b.txt").write_text("b")
    (tmp_path / "sibling.txt").write_text("secret")
    return src, tmp_path / "out" / "dst"


def test_file_list_parent_entries_are_refused_for_local_copies(folders, caplog):
    src, dst = folders
    root = src.parent
    before = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    with caplog.at_level(logging.WARNING, logger="mox"), \
            pytest.raises(MoxFileUnsafePathException) as caught:
        mox.file.copy_parallel(str(src), str(dst),
                               file_list=["a.txt", "../sibling.txt", "d/../../../x.txt"])
    assert caught.value.refused == ["../sibling.txt", "d/../../../x.txt"]
    assert "../sibling.txt" in str(caught.value) and "d/../../../x.txt" in str(caught.value)
    assert "copied the other 1" in str(caught.value)
    assert [r for r in caplog.records if "sibling.txt" in r.getMessage()]
    # only a.txt (and the folders on its way) is new; nothing next to src or dst
    after = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    assert sorted(set(after) - set(before)) == ["out", "out/dst", "out/dst/a.txt"]
    assert (dst / "a.txt").read_text() == "a"


def test_file_list_absolute_entry_is_read_inside_the_folder(folders):
    """``/etc/passwd`` in ``file_list`` is a name below ``src`` (as a listed key would be),
    never the system file."""
    src, dst = folders
    with pytest.raises(mox.file.MoxFileNotExistsException) as caught:
        mox.file.copy_parallel(str(src), str(dst), file_list=["/etc/passwd"])
    assert os.path.join(str(src), "etc", "passwd") in str(caught.value)
    assert not (dst / "etc" / "passwd").exists()
    mox.file.copy_parallel(str(src), str(dst), file_list=["/d//b.txt"])
    assert (dst / "d" / "b.txt").read_text() == "b"


def test_a_plain_tree_copy_is_unchanged(folders):
    src, dst = folders
    mox.file.copy_parallel(str(src), str(dst), threads=2)
    assert (dst / "a.txt").read_text() == "a" and (dst / "d" / "b.txt").read_text() == "b"


def test_local_dataset_cache_refuses_names_that_leave_it(folders, caplog):
    src, dst = folders
    with caplog.at_level(logging.WARNING), \
            pytest.raises(MoxFileUnsafePathException) as caught:
        cache_files(str(src), ["a.txt", "../sibling.txt", str(src / "d" / "b.txt")],
                    str(dst), remove_on_finish=False)
    assert caught.value.refused == ["../sibling.txt", str(src / "d" / "b.txt")]
    assert "absolute" in caplog.text and "'..' segment" in caplog.text
    (cache_root,) = os.listdir(dst)
    cached = sorted(str(p.relative_to(dst / cache_root)) for p in (dst / cache_root).rglob("*"))
    assert cached == ["a.txt"]
    assert not (dst.parent / "sibling.txt").exists()


def test_a_refusal_in_an_atexit_handler_makes_the_exit_status_non_zero(folders, tmp_path):
    src, dst = folders
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(f"""
        import atexit
        import mox_core as mox
        atexit.register(lambda: mox.file.copy_parallel({str(src)!r}, {str(dst)!r},
                                                       file_list=["a.txt", "../sibling.txt"]))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 120, done.stderr
    assert "../sibling.txt" in done.stderr and "MoxFileUnsafePathException" in done.stderr
    assert (dst / "a.txt").read_text() == "a"
    assert sorted(os.listdir(dst)) == ["a.txt"]
