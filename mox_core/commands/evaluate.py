"""``mox eval``: accuracy and loss of a checkpoint on an image dataset, every sample once, with
a report people read (:mod:`mox_core.commands.eval_report`): top-5 accuracy, each class's
precision and recall, ``eval.json`` and a confusion matrix PNG beside the checkpoint."""

from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING, Any

import mox_core as mox
from mox_core.commands import artifacts, data, job_setup
from mox_core.commands.model_fn import augmentation, make_model_fn
from mox_core.constants import ModeKeys

if TYPE_CHECKING:
    from mox_core.commands.eval_report import EvalReport


def _summary_folder(folder: str) -> str | None:
    """``folder`` when eval may write its report and TensorBoard point there (beside the
    training curves), else ``None``: evaluating someone else's read-only checkpoint still
    works, and prints its report, without them."""
    import tensorflow.compat.v1 as tf  # job_setup.show_info_logs has loaded it

    probe = f"{folder.rstrip('/')}/.mox-write-test-{uuid.uuid4().hex}"
    try:
        with tf.io.gfile.GFile(probe, "w") as handle:
            handle.write("")
        tf.io.gfile.remove(probe)
    except (tf.errors.OpError, OSError) as exc:
        tf.logging.warning("Not writing the eval report (eval.json, the confusion matrix) and "
                           "summary to %s (not writable: %s)", folder, exc)
        return None
    return folder


def evaluate(data_path: str, checkpoint: str, net: str | None = None, batch_size: int = 32,
             image_size: int | None = None, skip_corrupt: bool = False,
             follow_symlinks: bool = False, dataset: str | None = None) -> dict[str, float]:
    """Loss and accuracy of the checkpoint on ``data_path``: :func:`evaluate_report`'s
    metrics."""
    report, _ = evaluate_report(data_path, checkpoint, net=net, batch_size=batch_size,
                                image_size=image_size, skip_corrupt=skip_corrupt,
                                follow_symlinks=follow_symlinks, dataset=dataset)
    return report.metrics()


def evaluate_report(data_path: str, checkpoint: str, net: str | None = None,
                    batch_size: int = 32, image_size: int | None = None,
                    skip_corrupt: bool = False, follow_symlinks: bool = False,
                    dataset: str | None = None) -> tuple[EvalReport, tuple[str, str] | None]:
    """The :class:`~mox_core.commands.eval_report.EvalReport` of the checkpoint on
    ``data_path`` (every sample once, in batches of at most the data:
    :func:`job_setup.open_fitted`), and the paths of the ``eval.json`` and confusion matrix PNG
    written beside the checkpoint (``None`` when its folder is not writable). ``dataset``: the
    registered named dataset ``data_path`` holds (``--dataset``).

    Loss and accuracy are also written for TensorBoard to ``eval/`` in the checkpoint's folder
    (mox train's ``--log-dir``), at the checkpoint's step, so they appear in the training
    charts; the confusion matrix goes there too, as an image.
    """
    job_setup.show_info_logs()
    prefix, info = job_setup.checkpoint_info(checkpoint, net)
    net = job_setup.network(net, info)
    size = job_setup.image_size(net, image_size, info)
    source = data.locate(data_path, "eval", follow_symlinks, dataset)
    data.check_same_labels(source, info.labels, info.labels_path)

    def open_dataset(per_device: int) -> Any:
        return data.open_dataset(
            source, batch_size=per_device * job_setup.towers(), image_size=size, training=False,
            num_epochs=1, augmentation_fn=augmentation(net, ModeKeys.EVAL, size),
            labels_path=info.labels_path, skip_corrupt=skip_corrupt)

    dataset, per_device = job_setup.open_fitted(open_dataset, batch_size, every_sample_once=True)
    global_batch = per_device * job_setup.towers()
    from mox_core.commands import eval_report  # a session hook: TensorFlow
    from mox_core.executor.checkpoints import checkpoint_global_step

    confusion = eval_report.ConfusionHook(len(info.labels))
    folder = _summary_folder(info.folder)
    mox.run(input_fn=job_setup.input_fn(dataset, ["image", "label"]),
            model_fn=make_model_fn(net, len(info.labels), size, hooks=[confusion]),
            run_mode=ModeKeys.EVAL, batch_size=global_batch, auto_batch=False,
            checkpoint_path=prefix, log_dir=folder)
    report = eval_report.EvalReport(
        checkpoint=artifacts.absolute(prefix), global_step=checkpoint_global_step(prefix),
        data=artifacts.absolute(source.path), class_names=list(info.labels),
        matrix=confusion.matrix, top_k_hits=confusion.top_k_hits, loss_sum=confusion.loss_sum)
    return report, eval_report.write(report, folder) if folder is not None else None


def cmd_eval(args: argparse.Namespace) -> int:
    report, written = evaluate_report(args.data, args.checkpoint, net=args.net,
                                      batch_size=args.batch_size, image_size=args.image_size,
                                      skip_corrupt=args.skip_corrupt,
                                      follow_symlinks=args.follow_symlinks,
                                      dataset=args.dataset)
    job_setup.print_metrics(report.metrics())
    print(report.top5_line())
    print("\n".join(report.class_table()))
    if written is None:
        print("eval.json and the confusion matrix not written: the checkpoint's folder is not "
              "writable")
    else:
        print(f"eval report: {written[0]}")
        print(f"confusion matrix: {written[1]}")
    return 0


def register(sub: Any) -> None:
    """Add ``eval`` to the ``mox`` subparsers."""
    p = job_setup.add_job_parser(sub, "eval", "evaluate a checkpoint: prints top-1 and top-5 "
                                 "accuracy, loss and each class's precision and recall, and "
                                 "writes them with a confusion matrix beside the checkpoint",
                                 cmd_eval, net_required=False)
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="mox train's --log-dir (its newest checkpoint) or a checkpoint prefix")
    p.add_argument("--batch-size", type=int, default=32, metavar="B")
