"""``cache_dir``: a local copy of the dataset's files, made before the first epoch.

On ModelArts the data lives on OBS and ``/cache`` is a local NVMe disk; ``cache_dir='ENV'``
means ``$DLS_LOCAL_CACHE_PATH``, the platform's dataset cache. Files are copied once, in
parallel, into a folder of their own under ``cache_dir`` (named after the source, so two
datasets never share one), keeping their relative paths; a file already there with the same
size is not copied again, so a restarted job reuses its cache. With
``remove_cache_on_finish=True`` that folder -- and nothing else -- is deleted when the Python
process exits.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

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


def cache_files(source_root: str, relative_paths: list[str], cache_dir: str,
                remove_on_finish: bool, num_threads: int = 16) -> str:
    """Copy ``source_root/relative`` for every relative path into a folder under ``cache_dir``
    and return that folder (the new root to read from)."""
    key = hashlib.sha1(source_root.rstrip("/").encode("utf-8")).hexdigest()[:12]
    name = os.path.basename(source_root.rstrip("/")) or "data"
    target_root = os.path.join(cache_dir, f"mox-cache-{name}-{key}")
    os.makedirs(target_root, exist_ok=True)
    if remove_on_finish:
        with _lock:
            _to_remove.add(target_root)
    logs.info("Caching %d files from %s to %s", len(relative_paths), source_root, target_root)

    def copy_one(relative: str) -> None:
        source = fs.join(source_root, relative)
        try:
            _copy(source, os.path.join(target_root, relative))
        except Exception as exc:
            raise ValueError(f"cannot cache {source!r} into {target_root!r}: {exc}") from exc

    with ThreadPoolExecutor(max_workers=num_threads) as pool:
        list(pool.map(copy_one, relative_paths))
    return target_root
