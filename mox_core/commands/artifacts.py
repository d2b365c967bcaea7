"""What ``mox train`` keeps beside its checkpoints and ``mox export`` beside the SavedModel.

``labels.txt`` (``0:daisy`` lines, TF-Slim's layout) holds the class names in label order and
``mox-model.json`` the network and input size. ``eval`` / ``predict`` / ``export`` read them, so
label ``i`` means the same class everywhere and a dataset with other classes is an error rather
than silently wrong names (the field's pitfall: without labels.txt the label order of training
and of the prediction client differ).
"""

from __future__ import annotations

import dataclasses
import json
import os

from mox_core import file as mox_file
from mox_core.datasets.labels import format_labels, parse_labels
from mox_core.file.atomic import write_atomically

LABELS_FILE = "labels.txt"
MODEL_FILE = "mox-model.json"


@dataclasses.dataclass
class ModelInfo:
    """The network, its input size and class names of a trained model."""

    net: str
    image_size: int
    labels: list[str]
    folder: str  # where the two files are (a log_dir or an export folder)

    @property
    def labels_path(self) -> str:
        return _join(self.folder, LABELS_FILE)

    def write(self, folder: str | None = None) -> None:
        """Write both files into ``folder`` (default: ``self.folder``), each whole or not at
        all: a run killed while rewriting them leaves the earlier files, which it then reads."""
        folder = folder or self.folder
        mox_file.make_dirs(folder)
        write_atomically(_join(folder, LABELS_FILE), format_labels(self.labels))
        write_atomically(_join(folder, MODEL_FILE), json.dumps(
            {"net": self.net, "image_size": self.image_size, "num_classes": len(self.labels)},
            indent=2) + "\n")


def _join(folder: str, name: str) -> str:
    return folder.rstrip("/") + "/" + name


def absolute(path: str) -> str:
    """Local paths made absolute (labels files are looked up relative to the data otherwise)."""
    return path if "://" in path else os.path.abspath(path)


def is_saved_model(path: str) -> bool:
    return mox_file.exists(_join(path, "saved_model.pb"))


def model_folder(checkpoint: str) -> str:
    """The folder of ``--checkpoint``: itself when a folder, else the prefix's folder."""
    checkpoint = absolute(checkpoint.rstrip("/"))
    if mox_file.is_directory(checkpoint):
        return checkpoint
    return os.path.dirname(checkpoint)


def read(folder: str, what: str) -> ModelInfo | None:
    """The model info kept in ``folder``; ``None`` when it has none."""
    labels_path = _join(folder, LABELS_FILE)
    if not mox_file.exists(labels_path):
        return None
    labels = parse_labels(mox_file.read(labels_path), labels_path)
    net, image_size = "", 0
    model_path = _join(folder, MODEL_FILE)
    if mox_file.exists(model_path):
        try:
            data = json.loads(mox_file.read(model_path))
            net, image_size = str(data["net"]), int(data["image_size"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{what} {model_path!r} is not a mox-model.json mox train wrote: "
                             f"{exc}") from None
    return ModelInfo(net, image_size, labels, folder)


def require(folder: str, what: str, net: str) -> ModelInfo:
    """The model info in ``folder``, checked against ``--net``; a clear error when missing."""
    info = read(folder, what)
    if info is None:
        raise ValueError(
            f"{what} {folder!r} has no {LABELS_FILE}: mox needs the class names the model was "
            f"trained with (mox train writes them beside its checkpoints); copy that "
            f"{LABELS_FILE} there"
        )
    if info.net and net and info.net != net:
        raise ValueError(f"--net {net!r} does not match the model in {folder!r}, which is a "
                         f"{info.net!r} (see its {MODEL_FILE})")
    return info
