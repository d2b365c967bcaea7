"""``cache_dir``: a local copy of the dataset's files, made before the first epoch.

On ModelArts the data lives on OBS and ``/cache`` is a local NVMe disk; ``cache_dir='ENV'``
means ``$DLS_LOCAL_CACHE_PATH``, the platform's dataset cache. Files are copied once, in
parallel, into a folder of their own under ``cache_dir`` (named after the source, so two
datasets never share one), keeping their relative paths; a file already there with the same
size is not copied again, so a restarted job reuses its cache. Copies go through ``mox.file``
(``stat`` and ``copy``) for the URL schemes a plugin serves.

With ``remove_cache_on_finish=True`` that folder -- and nothing else -- is removed on finish
(spec section 2): when the data ends, i.e. once every input pipeline built from the dataset has
delivered its last epoch (``num_epochs`` given), and in any case when the Python process exits
(a dataset that repeats forever, a run stopped by ``max_number_of_steps``). A pipeline built
again after that (an evaluation graph over the same dataset object) copies the files again.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mox_core.datasets import fs, logs

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
    if fs.is_remote(cache_dir):
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
        os.makedirs(self.root, exist_ok=True)
        if self.remove_on_finish:
            with _lock:
                _to_remove.add(self.root)
        logs.info("Caching %d files from %s to %s", len(self.relative_paths), self.source_root,
                  self.root)

        def copy_one(relative: str) -> None:
            source = fs.join(self.source_root, relative)
            try:
                _copy(source, os.path.join(self.root, relative))
            except Exception as exc:
                raise ValueError(f"cannot cache {source!r} into {self.root!r}: {exc}") from exc

        with ThreadPoolExecutor(max_workers=self.num_threads) as pool:
            list(pool.map(copy_one, self.relative_paths))
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
