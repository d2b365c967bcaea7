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
import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import mox_core as mox
from mox_core import recipes
from mox_core.commands import artifacts, data, job_setup
from mox_core.commands.model_fn import augmentation, make_model_fn
from mox_core.constants import MIXED_PRECISION_MODES, ModeKeys
from mox_core.nets import default_batch_norm_decay, get_model_meta
from mox_core.optimizer import get_optimizer_fn
from mox_core.optimizer.learning_rate_scheduler import parse_lr_strategy, piecewise_lr

#: the most TensorBoard points a ``mox train`` run writes per curve when --summary-every is not
#: given (plus the final step, which every run writes)
SUMMARY_POINTS = 200
#: seconds between checkpoints when neither --save-model-secs nor --save-model-steps is given:
#: a crash loses about a minute of training. (mox.run keeps MoXing's 600 s: its callers chose
#: that API; a CLI user never chose a cadence.)
DEFAULT_SAVE_MODEL_SECS = 60
#: log intervals at chance-level loss before mox train warns that nothing is learned
CHANCE_INTERVALS = 5


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


def _optimizer_fn(plan: recipes.TrainingPlan, lr_strategy: str | None, num_samples: int,
                  head_first: tuple[str, int] | None) -> Callable:
    """``optimizer_fn`` of the run: the plan's optimizer and learning-rate schedule (or the
    ``--lr-strategy`` piecewise rate), head first for ``head_first=(pattern, steps)``."""
    if lr_strategy is not None:
        parse_lr_strategy(lr_strategy)  # a malformed string fails here, naming the bad segment
    get_optimizer_fn(plan.optimizer, 0.01, **plan.optimizer_options)  # an unknown name fails here

    def optimizer_fn() -> Any:
        rate = (piecewise_lr(lr_strategy, num_samples, plan.global_batch) if lr_strategy
                else plan.learning_rate_tensor())
        optimizer = get_optimizer_fn(plan.optimizer, rate, **plan.optimizer_options)()
        if head_first is None:
            return optimizer
        from mox_core.commands.fine_tune import HeadFirstOptimizer

        return HeadFirstOptimizer(optimizer, *head_first)

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
          epochs: int | None = None, batch_size: int | None = None, optimizer: str | None = None,
          learning_rate: float | None = None, lr_strategy: str | None = None,
          image_size: int | None = None, checkpoint: str | None = None,
          weight_decay: float | None = None, log_every: int = 10, progress: bool = True,
          skip_corrupt: bool = False, summary_steps: int | None = None,
          follow_symlinks: bool = False, save_model_secs: int | None = None,
          save_model_steps: int | None = None, schedule: str | None = None,
          label_smoothing: float | None = None, warmup_epochs: float | None = None,
          freeze_backbone_epochs: float = 0.0, eval_data: str | None = None,
          val_split: float | None = None, eval_every: float = 1.0,
          early_stop: int | None = None, dataset: str | None = None) -> dict[str, float]:
    """Train ``net`` on ``data_path`` into ``log_dir``; returns the last logged metrics.

    Every setting left ``None`` comes from the network's training recipe
    (:mod:`mox_core.recipes`; printed in one line before training). TensorBoard points come
    every ``summary_steps`` steps, by default :func:`summary_every` of the run's length, and at
    the final step. Checkpoints come every ``save_model_secs`` seconds or ``save_model_steps``
    steps (seconds win when both are given, as in ``mox.run``), by default every
    :data:`DEFAULT_SAVE_MODEL_SECS` seconds, and at the final step.

    With ``checkpoint`` (and no checkpoint in ``log_dir`` yet) the run fine-tunes: logits
    trained for another number of classes are left out of the warm start, the recipe's rate is
    scaled by its ``fine_tune_rate``, and ``freeze_backbone_epochs`` epochs train the head
    alone. ``eval_data`` (a folder like ``data_path``) or ``val_split`` (a share of
    ``data_path``'s class folders) validates every ``eval_every`` epochs, keeps the best model
    in ``log_dir/best`` and, with ``early_stop`` evaluations without improvement, stops.
    """
    if not log_dir:
        raise ValueError("--log-dir is required: the folder for checkpoints and summaries")
    for option, value in (("--summary-every", summary_steps),
                          ("--save-model-secs", save_model_secs),
                          ("--save-model-steps", save_model_steps),
                          ("--early-stop", early_stop)):
        if value is not None and value < 1:
            raise ValueError(f"{option} must be at least 1, got {value}")
    if eval_data and val_split is not None:
        raise ValueError("give the validation data with --eval-data or --val-split, not both")
    if save_model_secs is None and save_model_steps is None:
        save_model_secs = DEFAULT_SAVE_MODEL_SECS
    if weight_decay is not None:
        job_setup.check_number("--weight-decay", weight_decay, zero=True)
    if learning_rate is not None:
        job_setup.check_number("--learning-rate", learning_rate)
    job_setup.check_number("--freeze-backbone-epochs", freeze_backbone_epochs, zero=True)
    job_setup.check_number("--eval-every", eval_every)
    if early_stop is not None and not (eval_data or val_split is not None):
        raise ValueError("--early-stop needs validation data: add --eval-data DIR or "
                         "--val-split 0.1")
    job_setup.show_info_logs()
    net = job_setup.network(net)
    kept = artifacts.read(artifacts.absolute(log_dir), "--log-dir")
    if kept is not None and kept.net and kept.net != net:
        raise ValueError(f"--log-dir {log_dir!r} holds a {kept.net!r} model; resume it with "
                         f"--net {kept.net} or train {net!r} into a new --log-dir")
    from mox_core.executor.checkpoints import resolve_checkpoint, resume_point  # loads TF

    fine_tuning = bool(checkpoint) and resume_point(log_dir) is None
    if checkpoint:
        checkpoint = resolve_checkpoint(checkpoint, "--checkpoint")
    if freeze_backbone_epochs and not fine_tuning:
        raise ValueError("--freeze-backbone-epochs freezes a pretrained network: give the "
                         "--checkpoint to fine-tune from (into a --log-dir without checkpoints)")
    recipe = recipes.for_network(net)
    if image_size is None and (kept is None or not kept.image_size):
        image_size = recipe.image_size
    size = job_setup.image_size(net, image_size, kept)
    source = data.locate(data_path, "train", follow_symlinks, dataset)
    if kept is not None:
        data.check_same_labels(source, kept.labels, kept.labels_path)
    parts = data.validation_split(source, val_split) if val_split is not None else None

    def open_dataset(per_device: int) -> Any:
        return data.open_dataset(
            source, batch_size=per_device * job_setup.towers(), image_size=size, training=True,
            augmentation_fn=augmentation(net, ModeKeys.TRAIN, size),
            labels_path=kept.labels_path if kept else None, skip_corrupt=skip_corrupt,
            part=("training part", parts["train"]) if parts else None)

    dataset, per_device = job_setup.open_fitted(open_dataset, batch_size or recipe.batch_size,
                                                every_sample_once=False)
    samples = data.num_samples(dataset)
    global_batch = per_device * job_setup.towers()
    labels = kept.labels if kept else _labels_of(dataset, source)
    plan = recipes.plan(net, recipe, num_samples=samples, global_batch=global_batch,
                        image_size=size, max_steps=max_steps, epochs=epochs,
                        optimizer=optimizer, learning_rate=learning_rate, schedule=schedule,
                        weight_decay=weight_decay, label_smoothing=label_smoothing,
                        warmup_epochs=warmup_epochs, fine_tuning=fine_tuning,
                        default_batch_norm_decay=default_batch_norm_decay(net))
    max_steps = plan.total_steps
    if summary_steps is None:
        summary_steps = summary_every(max_steps)
    logits_pattern = get_model_meta(net).default_logits_pattern
    head_first = None
    if freeze_backbone_epochs:
        head_first = (logits_pattern, round(freeze_backbone_epochs * plan.steps_per_epoch))
    optimizer_fn = _optimizer_fn(plan, lr_strategy, samples, head_first)
    import tensorflow.compat.v1 as tf  # job_setup.show_info_logs has loaded it

    tf.logging.info("%s", plan.describe() if lr_strategy is None else
                    f"{plan.describe()}; learning rate by --lr-strategy {lr_strategy!r} instead")
    info = artifacts.ModelInfo(net, size, labels, artifacts.absolute(log_dir))
    info.write()
    validation = _validation(net, size, labels, info, source, eval_data, parts, global_batch,
                             samples, eval_every, early_stop, skip_corrupt, follow_symlinks)
    exclude = (_foreign_logits_excluded(checkpoint, logits_pattern, len(labels))
               if fine_tuning else None)
    from mox_core.commands.progress import TrainingProgress  # a session hook: TensorFlow

    hook = TrainingProgress(max_steps, global_batch, progress)
    model_fn = make_model_fn(net, len(labels), size, plan.weight_decay, hooks=[hook],
                             label_smoothing=plan.label_smoothing,
                             chance_watch=(log_every, plan.warmup_steps),
                             validation_hooks=validation.hooks if validation else None,
                             batch_norm_decay=plan.batch_norm_decay)

    def input_fn(mode: str) -> Any:
        if mode == ModeKeys.EVAL:
            return validation.dataset.as_tf_dataset(["image", "label"])
        return dataset.get(["image", "label"])

    try:
        with _flag_value("checkpoint_exclude_patterns", exclude):
            metrics = mox.run(
                input_fn=input_fn, model_fn=model_fn, optimizer_fn=optimizer_fn,
                run_mode=ModeKeys.TRAIN, inter_mode=ModeKeys.EVAL if validation else None,
                batch_size=global_batch, auto_batch=False, log_dir=log_dir,
                max_number_of_steps=max_steps, checkpoint_path=checkpoint,
                log_every_n_steps=log_every, save_summary_steps=summary_steps,
                save_model_secs=save_model_secs, save_model_steps=save_model_steps)
    finally:
        hook.close()  # a run ending with an error calls no hook's end: the bar ends here
    if validation is not None:
        validation.report()
    return metrics


def _foreign_logits_excluded(checkpoint: str, logits_pattern: str, num_classes: int) -> str | None:
    """The ``checkpoint_exclude_patterns`` of a fine-tuning run: the logits pattern added to
    the flag's value when the checkpoint's logits are for another number of classes."""
    import tensorflow.compat.v1 as tf

    from mox_core.commands.fine_tune import foreign_logits
    from mox_core.flags import get_flag

    left_out = foreign_logits(checkpoint, logits_pattern, num_classes)
    if not left_out:
        return None
    tf.logging.warning("Fine-tuning from %s: its logits are for another number of classes than "
                       "the %d here; left out of the warm start and trained from scratch: %s",
                       checkpoint, num_classes, ", ".join(left_out))
    given = get_flag("checkpoint_exclude_patterns")
    return f"{given},{logits_pattern}" if given else logits_pattern


@contextlib.contextmanager
def _flag_value(name: str, value: Any) -> Iterator[None]:
    """Run flag ``name`` set to ``value`` (``None``: unchanged) inside the block only."""
    from mox_core.flags import get_flag, set_flag

    if value is None:
        yield
        return
    before = get_flag(name)
    set_flag(name, value)
    try:
        yield
    finally:
        set_flag(name, before)


class _Validation:
    """The validation data of a run and its :class:`~mox_core.executor.BestModelHook`."""

    def __init__(self, dataset: Any, samples: int, best: artifacts.ModelInfo, make_hook) -> None:
        self.dataset, self.samples, self.best, self._make_hook = dataset, samples, best, make_hook
        self.hook: Any = None

    def hooks(self, monitor_info: dict) -> list:
        self.hook = self._make_hook(monitor_info)
        return [self.hook]

    def report(self) -> None:
        hook = self.hook
        if hook is None or hook.best_step is None:
            return
        print(f"best validation accuracy: {hook.best:.3f} at step {hook.best_step} "
              f"({self.samples} images); that model is in {self.best.folder}")
        if hook.stopped_at is not None:
            print(f"stopped early at step {hook.stopped_at}: no improvement for "
                  f"{hook.patience} evaluations")


def _validation(net: str, size: int, labels: list[str], info: artifacts.ModelInfo,
                source: data.DataSource, eval_data: str | None,
                parts: dict[str, list[str]] | None, global_batch: int, train_samples: int,
                eval_every: float, early_stop: int | None, skip_corrupt: bool,
                follow_symlinks: bool) -> _Validation | None:
    """The validation of a run with ``--eval-data`` or ``--val-split`` (else ``None``)."""
    if not eval_data and parts is None:
        return None
    if eval_data:
        held = data.locate(eval_data, "eval", follow_symlinks)
        data.check_same_labels(held, labels, info.labels_path)
    else:
        held = source
    dataset = data.open_dataset(
        held, batch_size=global_batch, image_size=size, training=False, num_epochs=1,
        augmentation_fn=augmentation(net, ModeKeys.EVAL, size), labels_path=info.labels_path,
        skip_corrupt=skip_corrupt,
        part=("validation part", parts["validation"]) if parts else None)
    samples = data.num_samples(dataset)
    best = artifacts.ModelInfo(net, size, labels, f"{info.folder.rstrip('/')}/best")
    best.write()
    from mox_core.executor import BestModelHook

    def make_hook(monitor_info: dict) -> Any:
        return BestModelHook(monitor_info, "accuracy", global_batch, train_samples, samples,
                             best_dir=best.folder,
                             summary_dir=f"{info.folder.rstrip('/')}/validation",
                             evaluate_every_n_epochs=eval_every, patience=early_stop)

    return _Validation(dataset, samples, best, make_hook)


def cmd_train(args: argparse.Namespace) -> int:
    from mox_core.flags import set_flag

    # the run flags, in the spelling of the other options
    if args.seed is not None:
        set_flag("seed", args.seed)
    if args.mixed_precision is not None:
        set_flag("mixed_precision", args.mixed_precision)
    if args.xla:
        set_flag("xla", True)
    metrics = train(args.net, args.data, args.log_dir, max_steps=args.max_steps,
                    epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer,
                    learning_rate=args.learning_rate, lr_strategy=args.lr_strategy,
                    image_size=args.image_size, checkpoint=args.checkpoint,
                    weight_decay=args.weight_decay, log_every=args.log_every,
                    progress=not args.quiet, skip_corrupt=args.skip_corrupt,
                    summary_steps=args.summary_every, follow_symlinks=args.follow_symlinks,
                    save_model_secs=args.save_model_secs, save_model_steps=args.save_model_steps,
                    schedule=args.schedule, label_smoothing=args.label_smoothing,
                    warmup_epochs=args.warmup_epochs,
                    freeze_backbone_epochs=args.freeze_backbone_epochs,
                    eval_data=args.eval_data, val_split=args.val_split,
                    eval_every=args.eval_every, early_stop=args.early_stop,
                    dataset=args.dataset)
    job_setup.print_metrics(metrics)
    print(f"checkpoints and TensorBoard summaries: {args.log_dir}")
    return 0


def register(sub: Any) -> None:
    """Add ``train`` to the ``mox`` subparsers."""
    p = job_setup.add_job_parser(sub, "train", "train a network on an image dataset",
                                 cmd_train, net_required=True)
    p.add_argument("--log-dir", required=True, metavar="DIR",
                   help="checkpoints, TensorBoard summaries, labels.txt; training resumes here")
    recipe = p.add_argument_group(
        "training recipe", "each network has a recipe (`mox nets NAME` shows it, mox train "
        "prints the one it uses); these options override it")
    recipe.add_argument("--max-steps", type=int, default=None, metavar="N",
                        help="training steps (default: the recipe's epochs)")
    recipe.add_argument("--epochs", type=int, default=None, metavar="E",
                        help="epochs to train when --max-steps is not given")
    recipe.add_argument("--batch-size", type=int, default=None, metavar="B",
                        help="images per step and device")
    recipe.add_argument("--optimizer", default=None, metavar="NAME",
                        help="registered optimizer (`mox optimizers`); without "
                             "--learning-rate it gets its standard rate")
    rate = recipe.add_mutually_exclusive_group()
    rate.add_argument("--learning-rate", type=float, default=None, metavar="X",
                      help="peak learning rate, used as given (the recipe's is scaled to the "
                           "batch); the schedule still applies")
    rate.add_argument("--lr-strategy", default=None, metavar="S",
                      help="piecewise learning rate by epoch instead of the schedule, e.g. "
                           "'1:0.01->0.1,10:0.1,20:0.01'")
    recipe.add_argument("--schedule", choices=recipes.SCHEDULES, default=None,
                        help="how the rate falls after warm-up")
    recipe.add_argument("--warmup-epochs", type=float, default=None, metavar="E",
                        help="epochs of linear warm-up (at most a fifth of the run)")
    recipe.add_argument("--weight-decay", type=float, default=None, metavar="W",
                        help="L2 weight decay of the network")
    recipe.add_argument("--label-smoothing", type=float, default=None, metavar="S",
                        help="share of each target spread over the other classes")
    tune = p.add_argument_group("fine-tuning")
    tune.add_argument("--checkpoint", default=None, metavar="PATH",
                      help="fine-tune from this checkpoint (a TF-Slim or mox checkpoint; when "
                           "--log-dir has none yet): logits for another number of classes are "
                           "left out, and the recipe's rate is lowered")
    tune.add_argument("--freeze-backbone-epochs", type=float, default=0.0, metavar="E",
                      help="with --checkpoint, train only the logits for the first E epochs")
    check = p.add_argument_group("validation while training")
    check.add_argument("--eval-data", default=None, metavar="PATH",
                       help="held-out data (like --data) to evaluate on while training; the "
                            "best model is kept in LOG_DIR/best")
    check.add_argument("--val-split", type=float, default=None, metavar="SHARE",
                       help="hold out this share of --data's class folders instead "
                            "(stratified, the same images every run), e.g. 0.1")
    check.add_argument("--eval-every", type=float, default=1.0, metavar="E",
                       help="evaluate every E epochs (default 1)")
    check.add_argument("--early-stop", type=int, default=None, metavar="PATIENCE",
                       help="stop after PATIENCE evaluations without a better accuracy")
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
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="make the run reproducible: the same seed, data and command give the "
                        "same loss curve on a CPU (the run flag seed)")
    p.add_argument("--mixed-precision", choices=MIXED_PRECISION_MODES, default=None,
                   help="compute in half precision, variables and checkpoints staying float32: "
                        "bf16 (CPUs), fp16 (GPUs, dynamic loss scaling), auto (where the "
                        "hardware computes it natively) or off (the default; the run flag "
                        "mixed_precision)")
    p.add_argument("--xla", action="store_true",
                   help="compile the model with XLA (faster on some networks, slower on "
                        "others; the run flag xla)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
