"""``mox predict``: the top-k labels of every image of a dataset, as CSV, from a training
checkpoint (through ``mox.run``) or from a SavedModel ``mox export`` wrote (its signature
alone, in a plain session)."""

from __future__ import annotations

import argparse
import os
from typing import Any

import mox_core as mox
from mox_core import file as mox_file
from mox_core.commands import artifacts, data, job_setup
from mox_core.commands.model_fn import augmentation, make_model_fn
from mox_core.commands.prediction_writer import PredictionWriter
from mox_core.constants import ModeKeys


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
    check_output(output)
    job_setup.show_info_logs()
    saved_model = bool(checkpoint) and artifacts.is_saved_model(checkpoint)
    if saved_model:
        info = artifacts.require(artifacts.absolute(checkpoint), "SavedModel folder", net)
        prefix = checkpoint
    else:
        prefix, info = job_setup.checkpoint_info(checkpoint, net)
    net = job_setup.network(net, info)
    size = info.image_size if saved_model else job_setup.image_size(net, image_size, info)
    source = data.locate(data_path, "predict", follow_symlinks)
    devices = 1 if saved_model else job_setup.towers()
    # a SavedModel preprocesses in its graph; a checkpoint's network needs its pipeline here
    preprocess = None if saved_model else augmentation(net, ModeKeys.EVAL, size)

    def open_dataset(per_device: int) -> Any:
        return data.open_dataset(source, batch_size=per_device * devices, image_size=size,
                                 training=False, num_epochs=1, augmentation_fn=preprocess,
                                 skip_corrupt=skip_corrupt)

    # every image once: a batch beyond the data is cut to it (as mox eval does)
    dataset, per_device = job_setup.open_fitted(open_dataset, batch_size,
                                                every_sample_once=True, devices=devices)
    global_batch = per_device * devices
    writer = PredictionWriter(output, info.labels, min(top_k, len(info.labels)),
                              source.base_dir)
    with writer:
        if saved_model:
            _predict_saved_model(prefix, dataset, writer)
        else:
            mox.run(input_fn=job_setup.input_fn(dataset, ["image", "image_name"]),
                    model_fn=make_model_fn(net, len(info.labels), size),
                    output_fn=writer.write_outputs, output_every_n_steps=10,
                    run_mode=ModeKeys.PREDICT, batch_size=global_batch, auto_batch=False,
                    checkpoint_path=prefix)
    return writer.rows


def check_output(output: str) -> None:
    """An error, before any work, when ``output`` cannot be the CSV file: a folder, or a path
    through a file. Its folder is made when missing (as ``mox train`` makes ``--log-dir``)."""
    if mox_file.is_directory(output):
        raise ValueError(f"--output {output!r} is a folder: give the path of the CSV file to "
                         f"write, e.g. {output.rstrip('/') + '/predictions.csv'!r}")
    folder = output.rsplit("/", 1)[0] if "://" in output else os.path.dirname(output) or "."
    if mox_file.exists(folder) and not mox_file.is_directory(folder):
        raise ValueError(f"--output {output!r} cannot be written: {folder!r} is a file, not a "
                         f"folder; give the CSV a path in a folder")
    try:
        mox_file.make_dirs(folder)
    except OSError as exc:
        raise ValueError(f"--output {output!r} cannot be written: its folder {folder!r} cannot "
                         f"be made ({exc.strerror or exc})") from None
    if not mox_file.is_remote(output) and not os.access(folder, os.W_OK):
        raise ValueError(f"--output {output!r} cannot be written: its folder {folder!r} is not "
                         f"writable (the CSV is written beside its path, then renamed)")


def _predict_saved_model(path: str, dataset: Any, writer: PredictionWriter) -> None:
    """Run the ``serving_default`` signature of the SavedModel at ``path`` on every batch."""
    import tensorflow.compat.v1 as tf  # job_setup.show_info_logs has loaded it

    from mox_core.errors import explain_data_errors  # a bad image is a DataError naming it

    with tf.Graph().as_default() as graph, explain_data_errors(graph), \
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


def cmd_predict(args: argparse.Namespace) -> int:
    rows = predict(args.data, args.checkpoint, args.output, net=args.net, top_k=args.top_k,
                   batch_size=args.batch_size, image_size=args.image_size,
                   skip_corrupt=args.skip_corrupt, follow_symlinks=args.follow_symlinks)
    print(f"wrote {rows} predictions to {args.output}")
    return 0


def register(sub: Any) -> None:
    """Add ``predict`` to the ``mox`` subparsers."""
    p = job_setup.add_job_parser(sub, "predict",
                                 "predict images: writes a CSV of top-k labels and scores",
                                 cmd_predict, net_required=False)
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="mox train's --log-dir, a checkpoint prefix, or an exported SavedModel "
                        "folder (mox export's output)")
    p.add_argument("--output", required=True, metavar="FILE.csv",
                   help="the CSV to write (its folder is made when missing); an existing file "
                        "is replaced only when every image is predicted")
    p.add_argument("--top-k", type=int, default=5, metavar="K",
                   help="labels per image (default 5, at most the number of classes)")
    p.add_argument("--batch-size", type=int, default=32, metavar="B")
