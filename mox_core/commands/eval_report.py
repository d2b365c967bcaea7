"""``mox eval``'s report: top-1 and top-5 accuracy, precision and recall of each class, and the
confusion matrix, printed, in ``eval.json`` and as a PNG beside the checkpoint, and as an image
in TensorBoard's ``eval`` run. Imports TensorFlow: ``mox eval`` imports it when it runs.

:class:`ConfusionHook` counts every evaluated sample once from each step's labels and logits
(every tower's), so a short last batch counts its own samples and no more.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from typing import Any

import numpy as np
import tensorflow.compat.v1 as tf

from mox_core.commands.model_fn import outputs
from mox_core.constants import ModeKeys
from mox_core.executor import AggregativeSessionRunHook
from mox_core.file.atomic import write_atomically

#: top-k accuracy reported besides top-1; it says something only with more classes than this
TOP_K = 5
JSON_FILE = "eval.json"
PNG_FILE = "eval-confusion-matrix.png"
#: the TensorBoard tag of the confusion matrix image
IMAGE_TAG = "confusion_matrix"
#: what the report shows for a precision or recall that has no value
UNDEFINED = "n/a"


class ConfusionHook(AggregativeSessionRunHook):
    """Counts each evaluated sample into ``matrix[true class, predicted class]``, its label
    being among the ``TOP_K`` highest logits into ``top_k_hits``, and its loss into
    ``loss_sum`` (each tower's mean loss times its samples)."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.matrix = np.zeros((num_classes, num_classes), np.int64)
        self.top_k_hits = 0
        self.loss_sum = 0.0

    def begin(self) -> None:
        labels, logits = outputs(ModeKeys.EVAL, "labels"), outputs(ModeKeys.EVAL, "logits")
        with tf.name_scope("eval_report"):
            self._fetches = {
                "labels": tf.concat(labels, 0),
                "top": tf.nn.top_k(tf.concat(logits, 0), k=min(TOP_K, self.num_classes)).indices,
                "losses": outputs(ModeKeys.EVAL, "loss"),
                "counts": [tf.size(tower) for tower in labels]}

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(self._fetches)

    def after_run(self, run_context, run_values) -> None:
        labels = np.asarray(run_values.results["labels"], np.int64).ravel()
        top = np.asarray(run_values.results["top"], np.int64)
        k = self.num_classes
        outside = labels[(labels < 0) | (labels >= k)]
        if outside.size:
            raise ValueError(f"label {int(outside[0])} is not one of the model's {k} classes")
        self.matrix += np.bincount(labels * k + top[:, 0], minlength=k * k).reshape(k, k)
        self.top_k_hits += int(np.any(top == labels[:, None], axis=1).sum())
        self.loss_sum += float(np.dot(run_values.results["losses"], run_values.results["counts"]))


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclasses.dataclass
class EvalReport:
    """What ``mox eval`` measured of ``checkpoint`` (at ``global_step``) on ``data``."""

    checkpoint: str
    global_step: int | None
    data: str
    class_names: list[str]
    matrix: np.ndarray  # [true class, predicted class] -> samples
    top_k_hits: int
    loss_sum: float

    @property
    def loss(self) -> float:
        """The mean loss over every sample (of every tower, whatever ``log_first_clone``)."""
        return self.loss_sum / self.num_samples

    @property
    def num_samples(self) -> int:
        return int(self.matrix.sum())

    @property
    def top1(self) -> float:
        return float(np.trace(self.matrix)) / self.num_samples

    @property
    def top5(self) -> float | None:
        """Top-5 accuracy; ``None`` with ``TOP_K`` classes or fewer, where every label is in
        the top 5 and the number would be a meaningless 1.0."""
        if len(self.class_names) <= TOP_K:
            return None
        return self.top_k_hits / self.num_samples

    def support(self) -> list[int]:
        return [int(n) for n in self.matrix.sum(axis=1)]

    def precision(self) -> list[float | None]:
        """Per class: the share of the samples predicted as it that are it; ``None`` for a
        class never predicted."""
        predicted = self.matrix.sum(axis=0)
        return [_ratio(int(self.matrix[i, i]), int(predicted[i]))
                for i in range(len(self.class_names))]

    def recall(self) -> list[float | None]:
        """Per class: the share of its samples predicted as it; ``None`` for a class with no
        samples in the data."""
        return [_ratio(int(self.matrix[i, i]), n) for i, n in enumerate(self.support())]

    def metrics(self) -> dict[str, float]:
        """The metric lines ``mox eval`` has always printed: the loss and top-1 accuracy, over
        every sample (mox.run's EVAL means are the first tower's with ``log_first_clone``)."""
        return {"loss": self.loss, "accuracy": self.top1}

    def as_json(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint, "global_step": self.global_step, "data": self.data,
            "num_samples": self.num_samples, "top1": self.top1, "top5": self.top5,
            "loss": self.loss, "class_names": list(self.class_names),
            "per_class": [{"name": name, "precision": p, "recall": r, "support": s}
                          for name, p, r, s in zip(self.class_names, self.precision(),
                                                   self.recall(), self.support())],
            "confusion_matrix_axes": "rows: true class, columns: predicted class",
            "confusion_matrix": self.matrix.tolist(),  # last: eval.json has a row per line
        }

    def top5_line(self) -> str:
        if self.top5 is None:
            return (f"top-5 accuracy: not applicable ({len(self.class_names)} classes: every "
                    f"class is among the top 5)")
        return f"top-5 accuracy: {self.top5:.3f}"

    def class_table(self) -> list[str]:
        """One line per class: precision, recall and support, with a note on ``n/a``."""
        width = max(len("class"), *(len(name) for name in self.class_names))
        lines = [f"{'class':<{width}}  precision  recall  support"]
        precision, recall = self.precision(), self.recall()
        for name, p, r, s in zip(self.class_names, precision, recall, self.support()):
            lines.append(f"{name:<{width}}  {_cell(p):>9}  {_cell(r):>6}  {s:>7}")
        if None in precision:
            lines.append(f"precision {UNDEFINED}: the model never predicted the class")
        if None in recall:
            lines.append(f"recall {UNDEFINED}: the data has no sample of the class")
        return lines


def _cell(value: float | None) -> str:
    return UNDEFINED if value is None else f"{value:.3f}"


def write(report: EvalReport, folder: str) -> tuple[str, str]:
    """Write ``eval.json`` and the confusion matrix PNG into ``folder`` (each whole or not at
    all), and the image for TensorBoard into ``folder/eval`` at the checkpoint's step; returns
    the two files' paths."""
    from mox_core.commands.confusion_png import confusion_png

    json_path, png_path = (f"{folder.rstrip('/')}/{name}" for name in (JSON_FILE, PNG_FILE))
    write_atomically(json_path, _json_text(report.as_json()))
    title = (f"{os.path.basename(report.checkpoint)} on {report.data}: top-1 accuracy "
             f"{report.top1:.3f} over {report.num_samples} samples")
    png = confusion_png(report.matrix, report.class_names, title)
    write_atomically(png_path, png)
    _write_image_summary(folder, report.global_step or 0, png)
    return json_path, png_path


def _json_text(content: dict[str, Any]) -> str:
    """``content`` indented, its last item (the confusion matrix) a row per line."""
    *head, (last, rows) = content.items()
    text = json.dumps(dict(head), indent=2)[:-2]  # without the closing "\n}"
    lines = ",\n".join(f"    {json.dumps(row)}" for row in rows)
    return f'{text},\n  {json.dumps(last)}: [\n{lines}\n  ]\n}}\n'


def _write_image_summary(log_dir: str, step: int, png: bytes) -> None:
    """The PNG as TensorBoard image ``IMAGE_TAG`` of the run ``eval``, in an event file of its
    own beside the eval scalars."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        (width, height), channels = image.size, len(image.getbands())
    summary = tf.Summary(value=[tf.Summary.Value(tag=IMAGE_TAG, image=tf.Summary.Image(
        height=height, width=width, colorspace=channels, encoded_image_string=png))])
    with tf.Graph().as_default():  # FileWriter refuses to run eagerly
        writer = tf.summary.FileWriter(os.path.join(log_dir, "eval"),
                                       filename_suffix=f".{IMAGE_TAG}")
        writer.add_summary(summary, step)
        writer.close()
