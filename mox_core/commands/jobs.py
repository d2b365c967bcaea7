"""``mox train | eval | predict | export``: a registered network on an image dataset, no Python.

Each command is a function here (``train``, ``evaluate``, ``predict``, ``export``) that builds an
``input_fn`` and a ``model_fn`` and hands them to ``mox.run``, so the CLI trains exactly as a
user's script would: the network's preprocessing pipeline, the optimizer registry, the
learning-rate strategy string, the run flags, MoXing's log lines, checkpoints and summaries in
``--log-dir``. ``register`` adds the subcommands to the ``mox`` parser.

The exported SavedModel takes ``images``: uint8 ``[N, size, size, 3]`` (decoded, resized) and
applies the network's eval preprocessing itself; it answers ``probabilities`` and ``classes``.
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Callable, Iterable
from typing import Any

from mox_core.commands import artifacts, data
from mox_core.constants import ModeKeys

DEFAULT_EPOCHS = 10
#: the most TensorBoard points a ``mox train`` run writes per curve when --summary-every is not
#: given (plus the final step, which every run writes)
SUMMARY_POINTS = 200
#: learning rates for --optimizer when neither --learning-rate nor --lr-strategy is given
_DEFAULT_LR = {"adam": 0.001, "rmsprop": 0.001, "adadelta": 1.0}


# --------------------------------------------------------------------------- pieces


def _network(net: str | None, info: artifacts.ModelInfo | None = None) -> str:
    """The network to build: ``--net``, else the one the model was trained as."""
    from mox_core.nets import get_model_meta

    name = net or (info.net if info else "")
    if not name:
        raise ValueError("--net is required: name the network the checkpoint holds "
                         "(`mox nets` lists them)")
    get_model_meta(name)  # an unknown name is an error listing close names
    return name


def _image_size(net: str, asked: int | None, info: artifacts.ModelInfo | None = None) -> int:
    from mox_core.nets import get_model_meta

    if asked is not None:
        if asked < 1:
            raise ValueError(f"--image-size must be a positive number of pixels, got {asked}")
        return asked
    if info is not None and info.image_size:
        return info.image_size
    return int(get_model_meta(net).default_image_size)


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


def _summary_folder(folder: str) -> str | None:
    """``folder`` when eval may write its TensorBoard point there (beside the training curves),
    else ``None``: evaluating someone else's read-only checkpoint still works, without it."""
    import uuid

    import tensorflow.compat.v1 as tf

    probe = f"{folder.rstrip('/')}/.mox-write-test-{uuid.uuid4().hex}"
    try:
        with tf.io.gfile.GFile(probe, "w") as handle:
            handle.write("")
        tf.io.gfile.remove(probe)
    except (tf.errors.OpError, OSError) as exc:
        tf.logging.warning("Not writing the eval summary to %s (not writable: %s)", folder, exc)
        return None
    return folder


def _show_info_logs() -> None:
    from mox_core.executor.runner import ensure_info_logging

    ensure_info_logging()  # the datasets' "Total N files found" lines come before mox.run


def _towers() -> int:
    from mox_core.flags import get_flag

    return max(1, int(get_flag("num_gpus")))


def _augmentation(net: str, mode: str, size: int) -> Callable:
    from mox_core.preprocessing import get_data_augmentation_fn

    return get_data_augmentation_fn(net, mode, output_height=size, output_width=size)


def make_model_fn(net: str, num_classes: int, size: int, weight_decay: float = 0.0,
                  hooks: Iterable[Any] = ()) -> Callable:
    """``model_fn(inputs, mode)`` of a classifier: ``inputs`` are images and labels (TRAIN,
    EVAL), images and image names (PREDICT), or uint8 images (EXPORT, preprocessed in-graph)."""

    def model_fn(inputs: list[Any], mode: str) -> Any:
        import tensorflow.compat.v1 as tf

        import mox_core as mox

        images = inputs[0]
        if mode == ModeKeys.EXPORT:
            raw = images
            images = tf.map_fn(_augmentation(net, ModeKeys.EVAL, size), raw,
                               fn_output_signature=tf.float32)
        network_fn = mox.get_model_fn(net, mode, num_classes, weight_decay=weight_decay,
                                      image_height=size, image_width=size)
        logits, _ = network_fn(images)
        probabilities = tf.nn.softmax(logits, name="probabilities")
        if mode == ModeKeys.EXPORT:
            return mox.ModelSpec(export_spec=mox.ExportSpec(
                inputs_dict={"images": raw},
                outputs_dict={"probabilities": probabilities,
                              "classes": tf.argmax(logits, axis=1, name="classes")}))
        if mode == ModeKeys.PREDICT:
            return mox.ModelSpec(output_info={"probabilities": probabilities,
                                              "image_name": inputs[1]})
        labels = inputs[1]
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        regularization = mox.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        total = tf.add_n([loss, *regularization]) if regularization else loss
        accuracy = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.float32))
        return mox.ModelSpec(loss=total, log_info={"loss": loss, "accuracy": accuracy},
                             hooks=list(hooks) if mode == ModeKeys.TRAIN else [])

    return model_fn


def _progress_hook(max_steps: int, global_batch: int, enabled: bool) -> Any:
    """A hook drawing the datasets' progress bar over the images of the remaining steps."""
    import tensorflow.compat.v1 as tf

    from mox_core.datasets.progress import ProgressBar
    from mox_core.executor import AggregativeSessionRunHook

    class TrainingProgress(AggregativeSessionRunHook):
        def begin(self) -> None:
            self._global_step = tf.train.get_global_step()
            self.bar = None

        def after_create_session(self, session, coord) -> None:
            start = int(session.run(self._global_step))
            what = "Training" if start == 0 else f"Training (from step {start})"
            self.bar = ProgressBar(max(max_steps - start, 0) * global_batch, what,
                                   enabled=enabled)
            self.bar.__enter__()

        def after_run(self, run_context, run_values) -> None:
            self.bar.update(global_batch)

        def end(self, session) -> None:
            if self.bar is not None:
                self.bar.close()

        def support_aggregation(self) -> bool:
            return False

        def support_sync_workers(self) -> bool:
            return False

        def run_inter_mode(self) -> bool:
            return False

    return TrainingProgress()


def _optimizer_fn(name: str, learning_rate: float | None, lr_strategy: str | None,
                  num_samples: int, global_batch: int) -> Callable:
    from mox_core.optimizer import get_optimizer_fn
    from mox_core.optimizer.learning_rate_scheduler import parse_lr_strategy, piecewise_lr

    extra = {"momentum": 0.9} if name == "momentum" else {}
    if lr_strategy is None:
        rate = learning_rate if learning_rate is not None else _DEFAULT_LR.get(name, 0.01)
        if rate <= 0:
            raise ValueError(f"--learning-rate must be positive, got {rate}")
        return get_optimizer_fn(name, rate, **extra)
    parse_lr_strategy(lr_strategy)  # a malformed string fails here, naming the bad segment
    get_optimizer_fn(name, 0.01, **extra)  # so does an unknown optimizer

    def optimizer_fn() -> Any:
        return get_optimizer_fn(name, piecewise_lr(lr_strategy, num_samples, global_batch),
                                **extra)()

    return optimizer_fn


def _input_fn(dataset: Any, keys: list[str]) -> Callable:
    def input_fn(mode: str) -> list[Any]:
        return dataset.get(keys)

    return input_fn


def _checkpoint_info(checkpoint: str, net: str | None) -> tuple[str, artifacts.ModelInfo]:
    """The checkpoint prefix ``--checkpoint`` names, and the model info beside it."""
    from mox_core.executor.checkpoints import resolve_checkpoint

    if not checkpoint:
        raise ValueError("--checkpoint is required: a folder mox train wrote, or a checkpoint "
                         "prefix such as DIR/model.ckpt-100")
    if artifacts.is_saved_model(checkpoint):
        raise ValueError(f"--checkpoint {checkpoint!r} is an exported SavedModel; this command "
                         f"needs the training checkpoints (mox train's --log-dir)")
    prefix = resolve_checkpoint(checkpoint, "--checkpoint")
    return prefix, artifacts.require(artifacts.model_folder(prefix), "checkpoint folder", net)


# --------------------------------------------------------------------------- commands


def train(net: str, data_path: str, log_dir: str, max_steps: int | None = None,
          epochs: int = DEFAULT_EPOCHS, batch_size: int = 32, optimizer: str = "momentum",
          learning_rate: float | None = None, lr_strategy: str | None = None,
          image_size: int | None = None, checkpoint: str | None = None,
          weight_decay: float = 0.0001, log_every: int = 10, progress: bool = True,
          skip_corrupt: bool = False, summary_steps: int | None = None,
          follow_symlinks: bool = False) -> dict[str, float]:
    """Train ``net`` on ``data_path`` into ``log_dir``; returns the last logged metrics.

    TensorBoard points come every ``summary_steps`` steps, by default :func:`summary_every` of
    the run's length, and at the final step.
    """
    import mox_core as mox

    if not log_dir:
        raise ValueError("--log-dir is required: the folder for checkpoints and summaries")
    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
    if summary_steps is not None and summary_steps < 1:
        raise ValueError(f"--summary-every must be at least 1, got {summary_steps}")
    _show_info_logs()
    net = _network(net)
    kept = artifacts.read(artifacts.absolute(log_dir), "--log-dir")
    if kept is not None and kept.net and kept.net != net:
        raise ValueError(f"--log-dir {log_dir!r} holds a {kept.net!r} model; resume it with "
                         f"--net {kept.net} or train {net!r} into a new --log-dir")
    size = _image_size(net, image_size, kept)
    source = data.locate(data_path, "train", follow_symlinks)
    global_batch = batch_size * _towers()
    if kept is not None:
        data.check_same_labels(source, kept.labels, kept.labels_path)
    dataset = data.open_dataset(
        source, batch_size=global_batch, image_size=size, training=True,
        augmentation_fn=_augmentation(net, ModeKeys.TRAIN, size),
        labels_path=kept.labels_path if kept else None, skip_corrupt=skip_corrupt)
    labels = kept.labels if kept else _labels_of(dataset, source)
    samples = data.num_samples(dataset)
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
    hook = _progress_hook(max_steps, global_batch, progress)
    return mox.run(
        input_fn=_input_fn(dataset, ["image", "label"]),
        model_fn=make_model_fn(net, len(labels), size, weight_decay, hooks=[hook]),
        optimizer_fn=optimizer_fn, run_mode=ModeKeys.TRAIN, batch_size=global_batch,
        auto_batch=False, log_dir=log_dir, max_number_of_steps=max_steps,
        checkpoint_path=checkpoint, log_every_n_steps=log_every,
        save_summary_steps=summary_steps)


def _labels_of(dataset: Any, source: data.DataSource) -> list[str]:
    meta = dataset.metadata
    if source.kind == data.RAW:
        return list(meta.labels_list)
    names = meta.labels_to_names
    if not names:
        raise ValueError(f"--data {source.path!r}: the TFRecords have no labels.txt naming "
                         f"their classes (mox convert writes one; lines '0:daisy')")
    return [names[i] for i in range(len(names))]


def evaluate(data_path: str, checkpoint: str, net: str | None = None, batch_size: int = 32,
             image_size: int | None = None, skip_corrupt: bool = False,
             follow_symlinks: bool = False) -> dict[str, float]:
    """Accuracy and loss of the checkpoint on ``data_path`` (every sample once).

    They are also written for TensorBoard to ``eval/`` in the checkpoint's folder (mox train's
    ``--log-dir``), at the checkpoint's step, so they appear in the training charts.
    """
    import mox_core as mox

    _show_info_logs()
    prefix, info = _checkpoint_info(checkpoint, net)
    net = _network(net, info)
    size = _image_size(net, image_size, info)
    source = data.locate(data_path, "eval", follow_symlinks)
    data.check_same_labels(source, info.labels, info.labels_path)
    global_batch = batch_size * _towers()
    dataset = data.open_dataset(
        source, batch_size=global_batch, image_size=size, training=False, num_epochs=1,
        augmentation_fn=_augmentation(net, ModeKeys.EVAL, size), labels_path=info.labels_path,
        skip_corrupt=skip_corrupt)
    return mox.run(input_fn=_input_fn(dataset, ["image", "label"]),
                   model_fn=make_model_fn(net, len(info.labels), size),
                   run_mode=ModeKeys.EVAL, batch_size=global_batch, auto_batch=False,
                   checkpoint_path=prefix, log_dir=_summary_folder(info.folder))


def export(checkpoint: str, log_dir: str, net: str | None = None,
           image_size: int | None = None) -> str:
    """Write the checkpoint as a SavedModel in ``log_dir/<next version>/``; returns that path."""
    import tensorflow.compat.v1 as tf

    import mox_core as mox

    if not log_dir:
        raise ValueError("--log-dir is required: the folder to export the SavedModel into")
    prefix, info = _checkpoint_info(checkpoint, net)
    net = _network(net, info)
    size = _image_size(net, image_size, info)

    def input_fn(mode: str) -> Any:
        return tf.zeros([1, size, size, 3], tf.uint8)

    export_dir = mox.run(input_fn=input_fn, model_fn=make_model_fn(net, len(info.labels), size),
                         run_mode=ModeKeys.EXPORT, auto_batch=False, log_dir=log_dir,
                         checkpoint_path=prefix)
    artifacts.ModelInfo(net, size, info.labels, export_dir).write()
    return export_dir


def predict(data_path: str, checkpoint: str, output: str, net: str | None = None,
            top_k: int = 5, batch_size: int = 32, image_size: int | None = None,
            skip_corrupt: bool = False, follow_symlinks: bool = False) -> int:
    """Write ``output`` (CSV: image, then label and score of the top ``top_k`` classes) for
    every image of ``data_path``; ``checkpoint`` is a training checkpoint or an exported
    SavedModel. Returns the number of images."""
    if not output:
        raise ValueError("--output is required: the CSV file to write")
    if top_k < 1:
        raise ValueError(f"--top-k must be at least 1, got {top_k}")
    _show_info_logs()
    saved_model = bool(checkpoint) and artifacts.is_saved_model(checkpoint)
    if saved_model:
        info = artifacts.require(artifacts.absolute(checkpoint), "SavedModel folder", net)
        prefix = checkpoint
    else:
        prefix, info = _checkpoint_info(checkpoint, net)
    net = _network(net, info)
    size = info.image_size if saved_model else _image_size(net, image_size, info)
    source = data.locate(data_path, "predict", follow_symlinks)
    global_batch = batch_size * (1 if saved_model else _towers())
    augmentation = None if saved_model else _augmentation(net, ModeKeys.EVAL, size)
    dataset = data.open_dataset(source, batch_size=global_batch, image_size=size,
                                training=False, num_epochs=1, augmentation_fn=augmentation,
                                skip_corrupt=skip_corrupt)
    writer = _PredictionWriter(output, info.labels, min(top_k, len(info.labels)),
                               source.base_dir)
    with writer:
        if saved_model:
            _predict_saved_model(prefix, dataset, writer)
        else:
            import mox_core as mox

            mox.run(input_fn=_input_fn(dataset, ["image", "image_name"]),
                    model_fn=make_model_fn(net, len(info.labels), size),
                    output_fn=writer.write_outputs, output_every_n_steps=10,
                    run_mode=ModeKeys.PREDICT, batch_size=global_batch, auto_batch=False,
                    checkpoint_path=prefix)
    return writer.rows


def _predict_saved_model(path: str, dataset: Any, writer: _PredictionWriter) -> None:
    import tensorflow.compat.v1 as tf

    from mox_core.datasets.pipeline import naming_bad_images

    with tf.Graph().as_default() as graph, naming_bad_images(graph), \
            tf.Session(graph=graph) as session:
        meta_graph = tf.saved_model.loader.load(session, [tf.saved_model.tag_constants.SERVING],
                                                path)
        signature = meta_graph.signature_def["serving_default"]
        if "images" not in signature.inputs or "probabilities" not in signature.outputs:
            raise ValueError(f"SavedModel {path!r} was not written by mox export: its signature "
                             f"takes {sorted(signature.inputs)} and gives "
                             f"{sorted(signature.outputs)}, not images -> probabilities")
        images_in = signature.inputs["images"].name
        probabilities_out = signature.outputs["probabilities"].name
        images, names = dataset.get(["image", "image_name"])
        while True:
            try:
                batch, batch_names = session.run([images, names])
            except tf.errors.OutOfRangeError:
                break
            probabilities = session.run(probabilities_out, {images_in: batch})
            writer.write_outputs([{"probabilities": probabilities, "image_name": batch_names}])


class _PredictionWriter:
    """The predictions CSV: ``image,label_1,score_1,...,label_k,score_k``."""

    def __init__(self, path: str, labels: list[str], top_k: int, data_dir: str) -> None:
        self.path, self.labels, self.top_k = path, labels, top_k
        self._prefix = data_dir.rstrip("/") + "/"
        self.rows = 0

    def __enter__(self) -> _PredictionWriter:
        from mox_core import file as mox_file

        self._handle = mox_file.File(self.path, "w")
        self._csv = csv.writer(self._handle, lineterminator="\n")
        header = ["image"]
        for rank in range(1, self.top_k + 1):
            header += [f"label_{rank}", f"score_{rank}"]
        self._csv.writerow(header)
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def write_outputs(self, outputs: list[dict[str, Any]]) -> None:
        import numpy as np

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


# --------------------------------------------------------------------------- the parser


def cmd_train(args: argparse.Namespace) -> int:
    metrics = train(args.net, args.data, args.log_dir, max_steps=args.max_steps,
                    epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer,
                    learning_rate=args.learning_rate, lr_strategy=args.lr_strategy,
                    image_size=args.image_size, checkpoint=args.checkpoint,
                    weight_decay=args.weight_decay, log_every=args.log_every,
                    progress=not args.quiet, skip_corrupt=args.skip_corrupt,
                    summary_steps=args.summary_every, follow_symlinks=args.follow_symlinks)
    print_metrics(metrics)
    print(f"checkpoints and TensorBoard summaries: {args.log_dir}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    print_metrics(evaluate(args.data, args.checkpoint, net=args.net,
                            batch_size=args.batch_size, image_size=args.image_size,
                            skip_corrupt=args.skip_corrupt,
                            follow_symlinks=args.follow_symlinks))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    rows = predict(args.data, args.checkpoint, args.output, net=args.net, top_k=args.top_k,
                   batch_size=args.batch_size, image_size=args.image_size,
                   skip_corrupt=args.skip_corrupt, follow_symlinks=args.follow_symlinks)
    print(f"wrote {rows} predictions to {args.output}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    path = export(args.checkpoint, args.log_dir, net=args.net, image_size=args.image_size)
    print(f"exported SavedModel: {path}")
    return 0


def print_metrics(metrics: dict[str, float]) -> None:
    for name, value in metrics.items():
        print(f"{name}: {value:.3f}")


def _common(parser: argparse.ArgumentParser, net_required: bool, data: bool = True) -> None:
    parser.add_argument("--net", required=net_required,
                        help="registered network name (`mox nets` lists them)"
                        + ("" if net_required else "; default: the one the model was trained as"))
    if data:
        parser.add_argument("--data", required=True, metavar="PATH",
                            help="folder of class folders, folder of TFRecords, or a TFRecord "
                                 "file pattern; local or any registered URL (obs://...)")
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


def register(sub: Any) -> None:
    """Add ``train``, ``eval``, ``predict`` and ``export`` to the ``mox`` subparsers."""
    flags_note = "Any framework run flag passes through as --flag=value (`mox flags`)."

    p = sub.add_parser("train", help="train a network on an image dataset", epilog=flags_note,
                       allow_abbrev=False)
    _common(p, net_required=True)
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
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train, framework_flags=True)

    p = sub.add_parser("eval", help="evaluate a checkpoint: prints accuracy and loss",
                       epilog=flags_note, allow_abbrev=False)
    _common(p, net_required=False)
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="mox train's --log-dir (its newest checkpoint) or a checkpoint prefix")
    p.add_argument("--batch-size", type=int, default=32, metavar="B")
    p.set_defaults(func=cmd_eval, framework_flags=True)

    p = sub.add_parser("predict", help="predict images: writes a CSV of top-k labels and scores",
                       epilog=flags_note, allow_abbrev=False)
    _common(p, net_required=False)
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="mox train's --log-dir, a checkpoint prefix, or an exported SavedModel "
                        "folder (mox export's output)")
    p.add_argument("--output", required=True, metavar="FILE.csv", help="the CSV to write")
    p.add_argument("--top-k", type=int, default=5, metavar="K",
                   help="labels per image (default 5, at most the number of classes)")
    p.add_argument("--batch-size", type=int, default=32, metavar="B")
    p.set_defaults(func=cmd_predict, framework_flags=True)

    p = sub.add_parser("export", help="export a checkpoint as a SavedModel (TF Serving layout)",
                       epilog=flags_note, allow_abbrev=False)
    _common(p, net_required=False, data=False)
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="mox train's --log-dir (its newest checkpoint) or a checkpoint prefix")
    p.add_argument("--log-dir", required=True, metavar="DIR",
                   help="writes DIR/<next version>/saved_model.pb with labels.txt")
    p.set_defaults(func=cmd_export, framework_flags=True)
