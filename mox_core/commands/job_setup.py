"""What the job commands (``train``, ``eval``, ``predict``, ``export``) share before ``mox.run``:
the network and input size to use, the devices, the checkpoint and the model info beside it,
their common command-line arguments, and how they print metrics.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from mox_core.commands import artifacts
from mox_core.flags import get_flag
from mox_core.nets import get_model_meta
from mox_core.utils.checks import finite_number

#: the epilog of every job command's help
FLAGS_NOTE = "Any framework run flag passes through as --flag=value (`mox flags`)."

#: the job commands that read a registered named dataset (``--dataset NAME --data DIR``)
NAMED_DATASET_COMMANDS = ("train", "eval")


def network(net: str | None, info: artifacts.ModelInfo | None = None) -> str:
    """The network to build: ``--net``, else the one the model was trained as."""
    name = net or (info.net if info else "")
    if not name:
        raise ValueError("--net is required: name the network the checkpoint holds "
                         "(`mox nets` lists them)")
    get_model_meta(name)  # an unknown name is an error listing close names
    return name


def image_size(net: str, asked: int | None, info: artifacts.ModelInfo | None = None) -> int:
    """``--image-size``, else the trained model's size, else the network's default size."""
    if asked is not None:
        if asked < 1:
            raise ValueError(f"--image-size must be a positive number of pixels, got {asked}")
        return asked
    if info is not None and info.image_size:
        return info.image_size
    return int(get_model_meta(net).default_image_size)


def towers() -> int:
    """Model towers per worker (``--num_gpus``): a job's global batch is this many batches."""
    return max(1, int(get_flag("num_gpus")))


def check_number(option: str, value: float, *, zero: bool = False) -> float:
    """``value`` of ``option`` when it is a finite number above 0 (or equal to 0 with ``zero``);
    else a ``ValueError`` naming the option (:func:`mox_core.utils.checks.finite_number`)."""
    return finite_number(option, value, zero=zero)


def open_fitted(open_dataset: Callable[[int], Any], batch_size: int, *,
                every_sample_once: bool, devices: int | None = None) -> tuple[Any, int]:
    """``open_dataset(per_device_batch)`` with ``--batch-size``, and the per-device batch used:
    ``--batch-size`` unless the global batch (over ``devices``, default the :func:`towers`)
    would hold more samples than the data has; then the dataset is opened again with a smaller
    batch, with a warning.

    In training such a batch only repeats samples -- the data repeats to fill it -- at the cost
    of memory (a typo such as 100000 for 100 got the process killed with no message); reading
    every sample once, it is one short batch anyway. It is cut rather than refused: the intent,
    one step over all the data, is clear, and a small dataset still runs with the default
    batch. Training cuts it to at most the data (split between the devices);
    ``every_sample_once`` (eval, predict) to the fewest per device that still hold every sample
    in one step.
    """
    from mox_core.commands.data import num_samples

    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
    dataset = open_dataset(batch_size)
    samples, devices = num_samples(dataset), devices or towers()
    if samples < 1 or batch_size * devices <= samples:
        return dataset, batch_size
    fitted = math.ceil(samples / devices) if every_sample_once else max(1, samples // devices)
    import tensorflow.compat.v1 as tf  # the datasets have loaded it

    tf.logging.warning("--batch-size %d is more than the %d samples in --data: using %d%s",
                       batch_size, samples, fitted,
                       f" per device ({devices} devices)" if devices > 1 else "")
    return open_dataset(fitted), fitted


def show_info_logs() -> None:
    """Show TensorFlow's INFO lines before ``mox.run`` does: the datasets' "Total N files
    found" lines come first."""
    from mox_core.executor.logging_hooks import ensure_info_logging  # loads TensorFlow

    ensure_info_logging()


def checkpoint_info(checkpoint: str, net: str | None) -> tuple[str, artifacts.ModelInfo]:
    """The checkpoint prefix ``--checkpoint`` names, and the model info beside it."""
    from mox_core.executor.checkpoints import resolve_checkpoint  # loads TensorFlow

    if not checkpoint:
        raise ValueError("--checkpoint is required: a folder mox train wrote, or a checkpoint "
                         "prefix such as DIR/model.ckpt-100")
    if artifacts.is_saved_model(checkpoint):
        raise ValueError(f"--checkpoint {checkpoint!r} is an exported SavedModel; this command "
                         f"needs the training checkpoints (mox train's --log-dir)")
    prefix = resolve_checkpoint(checkpoint, "--checkpoint")
    return prefix, artifacts.require(artifacts.model_folder(prefix), "checkpoint folder", net)


def input_fn(dataset: Any, keys: list[str]) -> Callable[[str], list[Any]]:
    """``mox.run``'s ``input_fn``: the ``keys`` of an opened dataset, whatever the mode."""

    def read(mode: str) -> list[Any]:
        return dataset.get(keys)

    return read


def print_metrics(metrics: dict[str, float]) -> None:
    for name, value in metrics.items():
        print(f"{name}: {value:.3f}")


def add_job_parser(sub: Any, name: str, help: str, func: Callable[[argparse.Namespace], int],
                   *, net_required: bool, data: bool = True) -> argparse.ArgumentParser:
    """Add the job command ``name`` running ``func`` to the ``mox`` subparsers, with the
    framework's run flags and the arguments every job takes: ``--net`` and ``--image-size``,
    with ``data``: ``--data``, ``--skip-corrupt`` and ``--follow-symlinks`` (and ``--dataset``
    for :data:`NAMED_DATASET_COMMANDS`). Returns its parser for the command's own arguments."""
    parser = sub.add_parser(name, help=help, epilog=FLAGS_NOTE, allow_abbrev=False)
    parser.set_defaults(func=func, framework_flags=True)
    parser.add_argument("--net", required=net_required,
                        help="registered network name (`mox nets` lists them)"
                        + ("" if net_required else "; default: the one the model was trained as"))
    if data:
        parser.add_argument("--data", required=True, metavar="PATH",
                            help="folder of class folders, folder of TFRecords, or a TFRecord "
                                 "file pattern; local or any registered URL (obs://...)")
        if name in NAMED_DATASET_COMMANDS:
            parser.add_argument("--dataset", default=None, metavar="NAME",
                                help="read --data as the folder of this registered named "
                                     "dataset (e.g. flowers; `mox plugins` lists them): "
                                     "train reads its training split, eval the next one")
    parser.add_argument("--image-size", type=int, default=None, metavar="N",
                        help="input height and width (default: the trained model's, else the "
                             "network's default size)")
    if data:
        parser.add_argument("--skip-corrupt", action="store_true",
                            help="skip images that cannot be read or decoded, each named in a "
                                 "warning (default: stop with an error naming the file)")
        parser.add_argument("--follow-symlinks", action="store_true",
                            help="also read files and class folders that symbolic links in the "
                                 "data folder lead to outside it (default: left out, named in "
                                 "a warning)")
    return parser
