"""``AsyncRawGenerator``: the raw datasets' reader for object storage.

``reader_class='AsyncRawGenerator'`` (or this class) on ``ImageClassificationRawDataset`` and
friends. The path stream is cut into windows of ``window`` elements; each window's objects are
fetched concurrently (``mox_datasets_obs.fetch``: at most ``concurrency`` requests in flight)
and its elements come out in their input order, two windows in flight so the network never
idles at a window's edge. Memory is bounded: at most two windows plus ``capacity`` read-ahead
contents exist at once, whatever the dataset's size. Without ``shuffle`` the samples come out
exactly in listing order; local paths are read too, so one reader serves mixed datasets.

Transient storage failures (a restarting server, dropped connections, 5xx) are retried with
back-off (``mox.file.set_auth(retry=..., retry_wait=...)``); 403/404 stop the input pipeline with
an error naming bucket and key.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mox_datasets_obs.fetch import fetch_all


class AsyncRawGenerator:
    """Reads many objects concurrently with bounded memory, keeping element order.

    ``num_readers`` and ``capacity`` are the dataset's: ``concurrency`` defaults to
    ``max(32, 4 * num_readers)`` requests in flight (object stores reward many small concurrent
    GETs; threads would pay a thread per request) and ``window`` to ``2 * concurrency``.
    """

    def __init__(self, num_readers: int = 8, capacity: int = 256, concurrency: int | None = None,
                 window: int | None = None) -> None:
        if num_readers < 1:
            raise ValueError(f"num_readers must be at least 1, got {num_readers}")
        if capacity < 0:
            raise ValueError(f"capacity must not be negative, got {capacity}")
        self.concurrency = int(concurrency or max(32, 4 * num_readers))
        self.window = int(window or 2 * self.concurrency)
        if self.concurrency < 1 or self.window < 1:
            raise ValueError("concurrency and window must be at least 1")
        self.capacity = capacity

    def _fetch(self, paths: np.ndarray) -> np.ndarray:
        names = [p.decode("utf-8") if isinstance(p, bytes) else str(p) for p in paths]
        contents = fetch_all(names, self.concurrency)
        out = np.empty(len(contents), dtype=object)
        out[:] = contents
        return out

    def read(self, elements: Any, deterministic: bool) -> Any:
        """``elements`` with ``image_buf`` added, in input order (``deterministic`` is honoured
        by always keeping the order: it costs nothing here)."""
        import tensorflow as tf

        del deterministic

        def fetch(batch: dict) -> dict:
            contents = tf.numpy_function(self._fetch, [batch["path"]], tf.string, stateful=True)
            contents.set_shape(batch["path"].shape)
            return {**batch, "image_buf": contents}

        windows = elements.batch(self.window)
        contents = windows.map(fetch, num_parallel_calls=2, deterministic=True).unbatch()
        return contents.prefetch(self.capacity) if self.capacity else contents
