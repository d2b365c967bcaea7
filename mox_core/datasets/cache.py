"""``cache_dir``: a local copy of the dataset's files, made before the first epoch.

On ModelArts the data lives on OBS and ``/cache`` is a local NVMe disk; ``cache_dir='ENV'``
means ``$DLS_LOCAL_CACHE_PATH``, the platform's dataset cache. Files are copied once, in
parallel, into a folder of their own under ``cache_dir`` (named after the source, so two
datasets never share one), keeping their relative paths; a file already there with the same
size is not copied again, so a restarted job reuses its cache. Copies go through ``mox.file``
(``stat`` and ``copy``) for the URL schemes a plugin serves. A sample name that would leave the
cache folder (``../x``, an absolute path: names come from listings and label files someone
else may have written) is not copied but named in a warning, and the dataset fails with
``MoxFileUnsafePathException`` after the rest is cached (``mox_core.file.safe_paths``).

With ``remove_cache_on_finish=True`` that folder -- and nothing else -- is removed on finish
(as MoXing documents it): when the data ends, i.e. once every input pipeline built from the dataset has
delivered its last epoch (``num_epochs`` given), and in any case when the Python process exits
(a dataset that repeats forever, a run stopped by ``max_number_of_steps``). A pipeline built
again after that (an evaluation graph over the same dataset object) copies the files again.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mox_core.datasets import fs, logs
from mox_core.file.errors import MoxFileUnsafePathException
from mox_core.file.safe_paths import safe_join, unsafe_reason

ENV_VARIABLE = "DLS_LOCAL_CACHE_PATH"

_to_remove: set[str] = set()
_lock = threading.Lock()


def resolve_cache_dir(cache_dir: str | None) -> str | None:
    """``cache_dir`` with ``'ENV'`` replaced by ``$DLS_LOCAL_CACHE_PATH``."""
    if cache_dir is None or cache_dir == "":
        return None
    if cache_dir == "ENV":
        value = os.environ.get(ENV_VARIABLE)
        if not value:
            raise ValueError(
                f"cache_dir='ENV' means the folder in ${ENV_VARIABLE}, which is not set"
            )
        return value
    if fs.is_url(cache_dir):
        raise ValueError(f"cache_dir must be a local folder, got {cache_dir!r}")
    return cache_dir


def _remove_at_exit() -> None:
    with _lock:
        folders = sorted(_to_remove)
        _to_remove.clear()
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_remove_at_exit)


def _copy(source: str, target: str) -> None:
    if os.path.isfile(target) and os.path.getsize(target) == fs.size(source):
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = f"{target}.mox-partial"
    fs.copy_to_local(source, partial)
    os.replace(partial, target)


def cache_root_for(source_root: str, cache_dir: str) -> str:
    """The folder under ``cache_dir`` that holds the copy of ``source_root``."""
    key = hashlib.sha1(source_root.rstrip("/").encode("utf-8")).hexdigest()[:12]
    name = os.path.basename(source_root.rstrip("/")) or "data"
    return os.path.join(cache_dir, f"mox-cache-{name}-{key}")


def make_cache_folder(root: str) -> None:
    """Create ``root``, one dataset's cache folder, or accept the real folder of this user an
    earlier run left; refuse anything else found at that path, naming it.

    The name is predictable (:func:`cache_root_for`), so on a shared ``cache_dir`` (``/tmp``, a
    team disk) someone else can create it first: through a symbolic link the copies would be
    written wherever it leads (and removed from there on finish), and in a folder of theirs
    they could read or swap the cached files. ``mkdir`` (not ``makedirs(exist_ok=True)``, which
    follows a link) makes the folder; only the user's own ``cache_dir`` above it is created
    with ``makedirs``.
    """
    os.makedirs(os.path.dirname(root) or ".", exist_ok=True)
    try:
        os.mkdir(root)
        return
    except FileExistsError:
        pass
    info = os.lstat(root)
    if stat.S_ISLNK(info.st_mode):
        raise ValueError(
            f"dataset cache folder {root!r} is a symbolic link (to {os.readlink(root)!r}), "
            f"which may have been planted to redirect the cache: remove it or choose another "
            f"cache_dir"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise ValueError(f"dataset cache folder {root!r} exists but is not a folder: remove it "
                         f"or choose another cache_dir")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise ValueError(
            f"dataset cache folder {root!r} belongs to another user (uid {info.st_uid}, you are "
            f"uid {os.getuid()}), who could read or replace the cached files: remove it or "
            f"choose another cache_dir"
        )


class LocalCache:
    """The local copy of one dataset's files, and when it goes away.

    ``root`` is the folder to read from (files keep their paths relative to ``source_root``).
    ``follow(dataset)`` is called by each input pipeline: it makes sure the copy is there and,
    with ``remove_on_finish``, returns ``dataset`` followed by an end marker that removes the
    copy once the last open pipeline has run out of data.
    """

    def __init__(self, source_root: str, relative_paths: list[str], cache_dir: str,
                 remove_on_finish: bool, num_threads: int = 16) -> None:
        self.source_root = source_root
        self.relative_paths = list(relative_paths)
        self.remove_on_finish = remove_on_finish
        self.num_threads = num_threads
        self.root = cache_root_for(source_root, cache_dir)
        self._lock = threading.Lock()
        self._open_pipelines = 0
        self._present = False
        self.fill()

    def fill(self) -> None:
        """Copy every file not already in the cache (same size)."""
        make_cache_folder(self.root)
        if self.remove_on_finish:
            with _lock:
                _to_remove.add(self.root)
        logs.info("Caching %d files from %s to %s", len(self.relative_paths), self.source_root,
                  self.root)

        targets, refused = [], []
        for relative in self.relative_paths:
            why = unsafe_reason(relative, keys=False)
            if why is None:
                targets.append((relative, safe_join(self.root, relative, keys=False)))
            else:
                logs.warning("Not caching %r from %s: %s; nothing is written outside %s",
                             relative, self.source_root, why, self.root)
                refused.append(relative)

        def copy_one(item: tuple[str, str]) -> None:
            relative, target = item
            source = fs.join(self.source_root, relative)
            try:
                _copy(source, target)
            except Exception as exc:
                raise ValueError(f"cannot cache {source!r} into {self.root!r}: {exc}") from exc

        with ThreadPoolExecutor(max_workers=self.num_threads) as pool:
            list(pool.map(copy_one, targets))
        if refused:
            raise MoxFileUnsafePathException(
                f"the dataset cache of {self.source_root!r} refused {len(refused)} file "
                f"name(s) that would be written outside its folder {self.root!r} (and read "
                f"from outside {self.source_root!r}): "
                + ", ".join(repr(r) for r in refused[:20])
                + ("" if len(refused) <= 20 else f" and {len(refused) - 20} more")
                + "; the other files are cached. Sample names must be paths inside the "
                "dataset folder", refused, self.root)
        self._present = True

    def remove(self) -> None:
        """Delete the copy now (and forget it for the exit-time clean-up)."""
        with self._lock:
            self._present = False
        with _lock:
            _to_remove.discard(self.root)
        shutil.rmtree(self.root, ignore_errors=True)
        logs.info("Removed the dataset cache %s: the data has ended", self.root)

    def _pipeline_ended(self) -> bool:
        with self._lock:
            self._open_pipelines -= 1
            last = self._open_pipelines == 0
        if last:
            self.remove()
        return False

    def follow(self, dataset: Any, ends: bool) -> Any:
        """``dataset`` (one input pipeline over the cache), followed by the removal of the
        cache when ``ends`` (a finite ``num_epochs``) and ``remove_on_finish``."""
        import tensorflow as tf

        with self._lock:
            present = self._present
        if not present:
            self.fill()
        if not (ends and self.remove_on_finish):
            return dataset
        with self._lock:
            self._open_pipelines += 1

        def when_done(_: Any) -> Any:
            return tf.py_function(self._pipeline_ended, [], tf.bool)

        # an empty dataset of the same structure whose iteration runs the removal: it is only
        # reached after the last element of ``dataset`` has been produced
        marker = tf.data.Dataset.range(1).filter(when_done)
        return dataset.concatenate(marker.flat_map(lambda _: dataset.take(0)))


def cache_files(source_root: str, relative_paths: list[str], cache_dir: str,
                remove_on_finish: bool, num_threads: int = 16) -> LocalCache:
    """Copy ``source_root/relative`` for every relative path into a folder under ``cache_dir``;
    the returned :class:`LocalCache`'s ``root`` is the new root to read from."""
    return LocalCache(source_root, relative_paths, cache_dir, remove_on_finish, num_threads)
