"""``mox eval``: accuracy and loss of a checkpoint on an image dataset, every sample once."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

import mox_core as mox
from mox_core.commands import data, job_setup
from mox_core.commands.model_fn import augmentation, make_model_fn
from mox_core.constants import ModeKeys


def _summary_folder(folder: str) -> str | None:
    """``folder`` when eval may write its TensorBoard point there (beside the training curves),
    else ``None``: evaluating someone else's read-only checkpoint still works, without it."""
    import tensorflow.compat.v1 as tf  # job_setup.show_info_logs has loaded it

    probe = f"{folder.rstrip('/')}/.mox-write-test-{uuid.uuid4().hex}"
    try:
        with tf.io.gfile.GFile(probe, "w") as handle:
            handle.write("")
        tf.io.gfile.remove(probe)
    except (tf.errors.OpError, OSError) as exc:
        tf.logging.warning("Not writing the eval summary to %s (not writable: %s)", folder, exc)
        return None
    return folder


def evaluate(data_path: str, checkpoint: str, net: str | None = None, batch_size: int = 32,
             image_size: int | None = None, skip_corrupt: bool = False,
             follow_symlinks: bool = False) -> dict[str, float]:
    """Accuracy and loss of the checkpoint on ``data_path`` (every sample once, in batches of
    at most the data: :func:`job_setup.open_fitted`).

    They are also written for TensorBoard to ``eval/`` in the checkpoint's folder (mox train's
    ``--log-dir``), at the checkpoint's step, so they appear in the training charts.
    """
    job_setup.show_info_logs()
    prefix, info = job_setup.checkpoint_info(checkpoint, net)
    net = job_setup.network(net, info)
    size = job_setup.image_size(net, image_size, info)
    source = data.locate(data_path, "eval", follow_symlinks)
    data.check_same_labels(source, info.labels, info.labels_path)

    def open_dataset(per_device: int) -> Any:
        return data.open_dataset(
            source, batch_size=per_device * job_setup.towers(), image_size=size, training=False,
            num_epochs=1, augmentation_fn=augmentation(net, ModeKeys.EVAL, size),
            labels_path=info.labels_path, skip_corrupt=skip_corrupt)

    dataset, per_device = job_setup.open_fitted(open_dataset, batch_size, every_sample_once=True)
    global_batch = per_device * job_setup.towers()
    return mox.run(input_fn=job_setup.input_fn(dataset, ["image", "label"]),
                   model_fn=make_model_fn(net, len(info.labels), size),
                   run_mode=ModeKeys.EVAL, batch_size=global_batch, auto_batch=False,
                   checkpoint_path=prefix, log_dir=_summary_folder(info.folder))


def cmd_eval(args: argparse.Namespace) -> int:
    job_setup.print_metrics(evaluate(args.data, args.checkpoint, net=args.net,
                                     batch_size=args.batch_size, image_size=args.image_size,
                                     skip_corrupt=args.skip_corrupt,
                                     follow_symlinks=args.follow_symlinks))
    return 0


def register(sub: Any) -> None:
    """Add ``eval`` to the ``mox`` subparsers."""
    p = job_setup.add_job_parser(sub, "eval", "evaluate a checkpoint: prints accuracy and loss",
                                 cmd_eval, net_required=False)
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="mox train's --log-dir (its newest checkpoint) or a checkpoint prefix")
    p.add_argument("--batch-size", type=int, default=32, metavar="B")
