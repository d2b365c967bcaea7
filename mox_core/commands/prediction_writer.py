"""The predictions CSV ``mox predict`` writes: ``image,label_1,score_1,...,label_k,score_k``.

The CSV is written beside its path and renamed into place when the ``with`` block ends without
an error (``mox_core.file.atomic``): a prediction that fails or is killed midway leaves the
previous CSV as it was, never a partial one."""

from __future__ import annotations

import csv
from typing import Any

import numpy as np

from mox_core.file.atomic import atomic_write


class PredictionWriter:
    """Writes one row per image, its ``top_k`` labels by score; image names are relative to
    ``data_dir``. A context manager: the rows are written inside ``with``, and the file
    appears at ``path`` when it ends without an error."""

    def __init__(self, path: str, labels: list[str], top_k: int, data_dir: str) -> None:
        self.path, self.labels, self.top_k = path, labels, top_k
        self._prefix = data_dir.rstrip("/") + "/"
        self.rows = 0

    def __enter__(self) -> PredictionWriter:
        self._file = atomic_write(self.path, newline="")
        self._csv = csv.writer(self._file.__enter__(), lineterminator="\n")
        header = ["image"]
        for rank in range(1, self.top_k + 1):
            header += [f"label_{rank}", f"score_{rank}"]
        self._csv.writerow(header)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._file.__exit__(*exc)

    def write_outputs(self, outputs: list[dict[str, Any]]) -> None:
        """``mox.run``'s ``output_fn``: batches of ``probabilities`` and ``image_name``."""
        for output in outputs:
            for name, scores in zip(output["image_name"], output["probabilities"]):
                name = name.decode("utf-8") if isinstance(name, bytes) else str(name)
                name = name[len(self._prefix):] if name.startswith(self._prefix) else name
                name = name or f"record_{self.rows}"  # TFRecords without image/filename
                order = np.argsort(-scores, kind="stable")[: self.top_k]
                row = [name]
                for index in order:
                    row += [self.labels[index], f"{scores[index]:.6f}"]
                self._csv.writerow(row)
                self.rows += 1
