"""``mox train``: a registered network on an image dataset, no Python.

:func:`train` builds an ``input_fn`` and a ``model_fn`` and hands them to ``mox.run``, so the
command trains exactly as a user's script would: the network's preprocessing pipeline, the
optimizer registry, the learning-rate strategy string, the run flags, MoXing's log lines,
checkpoints and summaries in ``--log-dir``, and the model info (``labels.txt``,
``mox-model.json``) that ``eval``, ``predict`` and ``export`` read.

It checks what ``mox.run`` cannot word for a command line first: numbers that are not finite,
and a batch larger than the data (cut to it, :func:`job_setup.open_fitted`). A loss that turns
NaN stops the run through ``mox.run``'s own guard (``executor/guards.py``), an error here.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

import mox_core as mox
from mox_core.commands import artifacts, data, job_setup
from mox_core.commands.model_fn import augmentation, make_model_fn
from mox_core.constants import ModeKeys
from mox_core.optimizer import get_optimizer_fn
from mox_core.optimizer.learning_rate_scheduler import parse_lr_strategy, piecewise_lr

DEFAULT_EPOCHS = 10
#: the most TensorBoard points a ``mox train`` run writes per curve when --summary-every is not
#: given (plus the final step, which every run writes)
SUMMARY_POINTS = 200
#: learning rates for --optimizer when neither --learning-rate nor --lr-strategy is given
_DEFAULT_LR = {"adam": 0.001, "rmsprop": 0.001, "adadelta": 1.0}
#: seconds between checkpoints when neither --save-model-secs nor --save-model-steps is given:
#: a crash loses about a minute of training. (mox.run keeps MoXing's 600 s: its callers chose
#: that API; a CLI user never chose a cadence.)
DEFAULT_SAVE_MODEL_SECS = 60


def summary_every(max_steps: int) -> int:
    """Steps between TensorBoard points for a run of ``max_steps`` steps (``--summary-every``'s
    default): between ``SUMMARY_POINTS / 2`` and ``SUMMARY_POINTS`` points whatever the length,
    so a 60-step try and a 100,000-step job both draw readable curves; a run of up to
    ``SUMMARY_POINTS`` steps gets every step, never sparser than its log lines.

    It counts the run's whole length (``max_steps`` is the global step to reach), so a resumed
    run keeps the spacing of the run it continues. mox.run keeps MoXing's fixed
    ``save_summary_steps=100``: its caller chose that API; a CLI user never chose a cadence.
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be at least 1, got {max_steps}")
    return math.ceil(max_steps / SUMMARY_POINTS)


def _optimizer_fn(name: str, learning_rate: float | None, lr_strategy: str | None,
                  num_samples: int, global_batch: int) -> Callable:
    extra = {"momentum": 0.9} if name == "momentum" else {}
    if lr_strategy is None:
        rate = learning_rate if learning_rate is not None else _DEFAULT_LR.get(name, 0.01)
        return get_optimizer_fn(name, rate, **extra)
    parse_lr_strategy(lr_strategy)  # a malformed string fails here, naming the bad segment
    get_optimizer_fn(name, 0.01, **extra)  # so does an unknown optimizer

    def optimizer_fn() -> Any:
        return get_optimizer_fn(name, piecewise_lr(lr_strategy, num_samples, global_batch),
                                **extra)()

    return optimizer_fn


def _labels_of(dataset: Any, source: data.DataSource) -> list[str]:
    meta = dataset.metadata
    if source.kind == data.RAW:
        return list(meta.labels_list)
    names = meta.labels_to_names
    if not names:
        raise ValueError(f"--data {source.path!r}: the TFRecords have no labels.txt naming "
                         f"their classes (mox convert writes one; lines '0:daisy')")
    return [names[i] for i in range(len(names))]


def train(net: str, data_path: str, log_dir: str, max_steps: int | None = None,
          epochs: int = DEFAULT_EPOCHS, batch_size: int = 32, optimizer: str = "momentum",
          learning_rate: float | None = None, lr_strategy: str | None = None,
          image_size: int | None = None, checkpoint: str | None = None,
          weight_decay: float = 0.0001, log_every: int = 10, progress: bool = True,
          skip_corrupt: bool = False, summary_steps: int | None = None,
          follow_symlinks: bool = False, save_model_secs: int | None = None,
          save_model_steps: int | None = None) -> dict[str, float]:
    """Train ``net`` on ``data_path`` into ``log_dir``; returns the last logged metrics.

    TensorBoard points come every ``summary_steps`` steps, by default :func:`summary_every` of
    the run's length, and at the final step. Checkpoints come every ``save_model_secs`` seconds
    or ``save_model_steps`` steps (seconds win when both are given, as in ``mox.run``), by
    default every :data:`DEFAULT_SAVE_MODEL_SECS` seconds, and at the final step.
    """
    if not log_dir:
        raise ValueError("--log-dir is required: the folder for checkpoints and summaries")
    for option, value in (("--summary-every", summary_steps),
                          ("--save-model-secs", save_model_secs),
                          ("--save-model-steps", save_model_steps)):
        if value is not None and value < 1:
            raise ValueError(f"{option} must be at least 1, got {value}")
    if save_model_secs is None and save_model_steps is None:
        save_model_secs = DEFAULT_SAVE_MODEL_SECS
    job_setup.check_number("--weight-decay", weight_decay, zero=True)
    if learning_rate is not None:
        job_setup.check_number("--learning-rate", learning_rate)
    job_setup.show_info_logs()
    if checkpoint:
        from mox_core.executor.checkpoints import resolve_checkpoint  # loads TensorFlow

        checkpoint = resolve_checkpoint(checkpoint, "--checkpoint")
    net = job_setup.network(net)
    kept = artifacts.read(artifacts.absolute(log_dir), "--log-dir")
    if kept is not None and kept.net and kept.net != net:
        raise ValueError(f"--log-dir {log_dir!r} holds a {kept.net!r} model; resume it with "
                         f"--net {kept.net} or train {net!r} into a new --log-dir")
    size = job_setup.image_size(net, image_size, kept)
    source = data.locate(data_path, "train", follow_symlinks)
    if kept is not None:
        data.check_same_labels(source, kept.labels, kept.labels_path)

    def open_dataset(per_device: int) -> Any:
        return data.open_dataset(
            source, batch_size=per_device * job_setup.towers(), image_size=size, training=True,
            augmentation_fn=augmentation(net, ModeKeys.TRAIN, size),
            labels_path=kept.labels_path if kept else None, skip_corrupt=skip_corrupt)

    dataset, per_device = job_setup.open_fitted(open_dataset, batch_size,
                                                every_sample_once=False)
    samples = data.num_samples(dataset)
    global_batch = per_device * job_setup.towers()
    labels = kept.labels if kept else _labels_of(dataset, source)
    if max_steps is None:
        if epochs < 1:
            raise ValueError(f"--epochs must be at least 1, got {epochs}")
        max_steps = epochs * math.ceil(samples / global_batch)
    if max_steps < 1:
        raise ValueError(f"--max-steps must be at least 1, got {max_steps}")
    if summary_steps is None:
        summary_steps = summary_every(max_steps)
    optimizer_fn = _optimizer_fn(optimizer, learning_rate, lr_strategy, samples, global_batch)
    info = artifacts.ModelInfo(net, size, labels, artifacts.absolute(log_dir))
    info.write()
    from mox_core.commands.progress import TrainingProgress  # a session hook: TensorFlow

    hook = TrainingProgress(max_steps, global_batch, progress)
    try:
        return mox.run(
            input_fn=job_setup.input_fn(dataset, ["image", "label"]),
            model_fn=make_model_fn(net, len(labels), size, weight_decay, hooks=[hook]),
            optimizer_fn=optimizer_fn, run_mode=ModeKeys.TRAIN, batch_size=global_batch,
            auto_batch=False, log_dir=log_dir, max_number_of_steps=max_steps,
            checkpoint_path=checkpoint, log_every_n_steps=log_every,
            save_summary_steps=summary_steps, save_model_secs=save_model_secs,
            save_model_steps=save_model_steps)
    finally:
        hook.close()  # a run ending with an error calls no hook's end: the bar ends here


def cmd_train(args: argparse.Namespace) -> int:
    metrics = train(args.net, args.data, args.log_dir, max_steps=args.max_steps,
                    epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer,
                    learning_rate=args.learning_rate, lr_strategy=args.lr_strategy,
                    image_size=args.image_size, checkpoint=args.checkpoint,
                    weight_decay=args.weight_decay, log_every=args.log_every,
                    progress=not args.quiet, skip_corrupt=args.skip_corrupt,
                    summary_steps=args.summary_every, follow_symlinks=args.follow_symlinks,
                    save_model_secs=args.save_model_secs, save_model_steps=args.save_model_steps)
    job_setup.print_metrics(metrics)
    print(f"checkpoints and TensorBoard summaries: {args.log_dir}")
    return 0


def register(sub: Any) -> None:
    """Add ``train`` to the ``mox`` subparsers."""
    p = job_setup.add_job_parser(sub, "train", "train a network on an image dataset",
                                 cmd_train, net_required=True)
    p.add_argument("--log-dir", required=True, metavar="DIR",
                   help="checkpoints, TensorBoard summaries, labels.txt; training resumes here")
    p.add_argument("--max-steps", type=int, default=None, metavar="N",
                   help=f"training steps (default: --epochs epochs, {DEFAULT_EPOCHS})")
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, metavar="E",
                   help="epochs to train when --max-steps is not given")
    p.add_argument("--batch-size", type=int, default=32, metavar="B",
                   help="images per step and device (default 32)")
    p.add_argument("--optimizer", default="momentum", metavar="NAME",
                   help="registered optimizer (default momentum, with momentum 0.9)")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--learning-rate", type=float, default=None, metavar="X",
                      help="constant learning rate (default 0.01; adam and rmsprop 0.001)")
    rate.add_argument("--lr-strategy", default=None, metavar="S",
                      help="piecewise learning rate by epoch, e.g. '1:0.01->0.1,10:0.1,20:0.01'")
    p.add_argument("--checkpoint", default=None, metavar="PATH",
                   help="warm-start from this checkpoint (when --log-dir has none yet); "
                        "add --checkpoint_exclude_patterns=logits for new classes")
    p.add_argument("--weight-decay", type=float, default=0.0001, metavar="W",
                   help="L2 weight decay of the network (default 0.0001)")
    p.add_argument("--log-every", type=int, default=10, metavar="N",
                   help="log a step line every N steps (default 10)")
    p.add_argument("--summary-every", type=int, default=None, metavar="N",
                   help=f"write TensorBoard points every N steps (default: at most "
                        f"{SUMMARY_POINTS} a run, whatever its length); the final step is "
                        f"always written")
    # MoXing's spellings too (mox.run's argument names): they are what its users type.
    cadence = p.add_mutually_exclusive_group()
    cadence.add_argument("--save-model-secs", "--save_model_secs", type=int, default=None,
                         metavar="S",
                         help=f"write a checkpoint every S seconds (default "
                              f"{DEFAULT_SAVE_MODEL_SECS}: a crash loses about a minute of "
                              f"training); the final step is always written")
    cadence.add_argument("--save-model-steps", "--save_model_steps", type=int, default=None,
                         metavar="N", help="write a checkpoint every N steps instead")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
