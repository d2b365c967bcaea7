"""A ``mox.file`` storage backend, checked through ``mox.file`` the way users and the datasets
call it (fsspec's abstract test suite does the same for its filesystems).

:func:`check_filesystem` runs in an empty folder of the backend (``root``, e.g.
``"memfs://bucket/mox-check"``) and a local scratch folder, and leaves ``root`` empty again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from mox_core import file as mox_file
from mox_core.file.dispatch import backend_for


def check_filesystem(root: str, *, tmp_dir: str) -> list[str]:
    """Check the backend serving ``root`` (a URL of a registered scheme whose folder ``root``
    is empty or missing): round trips of bytes and text, ``stat``, folders, listings (plain,
    recursive, ``glob``, ``walk``), ``File`` streams, ``copy`` within the backend and in both
    directions with the local ``tmp_dir``, ``rename``, ``remove``, and missing paths as
    ``MoxFileNotExistsException`` (a ``FileNotFoundError``) naming them. Returns the names of
    the checks run, in order."""
    backend = backend_for(root)
    scheme = root.split("://")[0] if "://" in root else "local paths"
    what = f"storage backend {type(backend).__name__} of {scheme}"
    check = _Checker(what)
    if mox_file.exists(root):
        check.equal("list_directory of the empty root", mox_file.list_directory(root), [])
    mox_file.make_dirs(root)
    check.true("is_directory of a made folder", mox_file.is_directory(root))
    data = bytes(range(256)) * 3
    one = f"{root}/one.bin"
    mox_file.write(one, data, binary=True)
    check.true("exists of a written file", mox_file.exists(one))
    check.equal("read of a written file (binary)", mox_file.read(one, binary=True), data)
    check.equal("stat(...).length", mox_file.stat(one).length, len(data))
    check.true("stat(...).is_directory of a file is False", not mox_file.stat(one).is_directory)
    check.true("is_directory of a file is False", not mox_file.is_directory(one))
    mox_file.write(one, "überschrieben")
    check.equal("read after an overwrite (text, UTF-8)", mox_file.read(one), "überschrieben")
    mox_file.make_dirs(f"{root}/sub/deep")  # local paths need it; object stores may ignore it
    with mox_file.File(f"{root}/sub/deep/two.txt", "w") as handle:
        handle.write("two\n")
    with mox_file.File(f"{root}/sub/deep/two.txt", "r") as handle:
        check.equal("File(..., 'r') after File(..., 'w')", handle.read(), "two\n")
    mox_file.append(f"{root}/sub/deep/two.txt", "more\n")
    check.equal("read after append", mox_file.read(f"{root}/sub/deep/two.txt"), "two\nmore\n")
    check.equal("list_directory (sorted names, no separators)",
                mox_file.list_directory(root), ["one.bin", "sub"])
    check.equal("list_directory(recursive=True)", mox_file.list_directory(root, recursive=True),
                ["one.bin", "sub", "sub/deep", "sub/deep/two.txt"])
    check.true("is_directory of a folder holding a file", mox_file.is_directory(f"{root}/sub"))
    check.equal("glob (the matches' paths below the root)",
                [path.split("/sub/", 1)[-1] for path in mox_file.glob(f"{root}/sub/*/*.txt")],
                ["deep/two.txt"])
    base = root.rstrip("/").rsplit("/", 1)[-1]
    check.equal("walk (folder names, sub-folders, files)",
                [(folder.rstrip("/").rsplit("/", 1)[-1], dirs, files)
                 for folder, dirs, files in mox_file.walk(root)],
                [(base, ["sub"], ["one.bin"]), ("sub", ["deep"], []), ("deep", [], ["two.txt"])])
    mox_file.copy(one, f"{root}/copy.bin")
    check.equal("copy within the backend", mox_file.read(f"{root}/copy.bin"), "überschrieben")
    local = os.path.join(tmp_dir, "downloaded", "one.bin")
    mox_file.copy(one, local)
    with open(local, encoding="utf-8") as handle:
        check.equal("copy to a local path (download)", handle.read(), "überschrieben")
    mox_file.copy(local, f"{root}/uploaded.bin")
    check.equal("copy from a local path (upload)", mox_file.read(f"{root}/uploaded.bin"),
                "überschrieben")
    mox_file.copy_parallel(f"{root}/sub", os.path.join(tmp_dir, "tree"))
    with open(os.path.join(tmp_dir, "tree", "deep", "two.txt"), encoding="utf-8") as handle:
        check.equal("copy_parallel of a folder to a local folder", handle.read(), "two\nmore\n")
    mox_file.rename(f"{root}/copy.bin", f"{root}/renamed.bin")
    check.true("rename: the old name is gone", not mox_file.exists(f"{root}/copy.bin"))
    check.equal("rename: the new name holds the data", mox_file.read(f"{root}/renamed.bin"),
                "überschrieben")
    missing = f"{root}/no-such-file"
    check.true("exists of a missing path is False", not mox_file.exists(missing))
    for call in (mox_file.stat, mox_file.read, mox_file.remove):
        check.raises_missing(call, missing)
    for name in ("one.bin", "uploaded.bin", "renamed.bin"):
        mox_file.remove(f"{root}/{name}")
    check.true("remove of a file", not mox_file.exists(one))
    mox_file.remove(f"{root}/sub", recursive=True)
    check.true("remove(recursive=True) of a folder", not mox_file.exists(f"{root}/sub/deep/two.txt"))
    check.equal("list_directory after removing everything", mox_file.list_directory(root)
                if mox_file.exists(root) else [], [])
    return check.done


class _Checker:
    """Records each check's name; a failure is an AssertionError naming the backend."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.done: list[str] = []

    def true(self, name: str, condition: bool) -> None:
        if not condition:
            raise AssertionError(f"{self.what}: {name}: not so")
        self.done.append(name)

    def equal(self, name: str, got: Any, expected: Any) -> None:
        if got != expected:
            raise AssertionError(f"{self.what}: {name}: expected {expected!r:.200}, "
                                 f"got {got!r:.200}")
        self.done.append(name)

    def raises_missing(self, call: Callable[[str], Any], missing: str) -> None:
        name = f"{call.__name__} of a missing path raises MoxFileNotExistsException"
        try:
            call(missing)
        except mox_file.MoxFileNotExistsException as exc:
            if missing not in str(exc):
                raise AssertionError(f"{self.what}: {name}: its message {str(exc)!r} does not "
                                     f"name {missing!r}") from None
            self.done.append(name)
            return
        except Exception as exc:
            raise AssertionError(f"{self.what}: {name}: got {type(exc).__name__}: {exc}") from exc
        raise AssertionError(f"{self.what}: {name}: nothing was raised")
