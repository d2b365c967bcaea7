"""``mox export``: a training checkpoint as a SavedModel in TF Serving's layout.

The SavedModel takes ``images``: uint8 ``[N, size, size, 3]`` (decoded, resized) and applies
the network's eval preprocessing itself; it answers ``probabilities`` and ``classes``. The
model info beside it lets ``mox predict`` read it like a checkpoint folder.
"""

from __future__ import annotations

import argparse
from typing import Any

import mox_core as mox
from mox_core.commands import artifacts, job_setup
from mox_core.commands.model_fn import make_model_fn
from mox_core.constants import ModeKeys
from mox_core.file.atomic import publish, scratch_folder


def export(checkpoint: str, log_dir: str, net: str | None = None,
           image_size: int | None = None) -> str:
    """Write the checkpoint as a SavedModel in ``log_dir/<next version>/``; returns that path."""
    if not log_dir:
        raise ValueError("--log-dir is required: the folder to export the SavedModel into")
    prefix, info = job_setup.checkpoint_info(checkpoint, net)
    net = job_setup.network(net, info)
    size = job_setup.image_size(net, image_size, info)

    def input_fn(mode: str) -> Any:
        import tensorflow.compat.v1 as tf  # the graph is being built: mox.run has loaded it

        return tf.zeros([1, size, size, 3], tf.uint8)

    from mox_core.executor.export import export_dir_for  # imports TensorFlow: not at start-up

    # The version is complete -- SavedModel and model info -- before it appears under its
    # number: written in a scratch folder beside the versions, then renamed into place.
    with scratch_folder(artifacts.absolute(log_dir.rstrip("/")) + "/export") as scratch:
        written = mox.run(input_fn=input_fn,
                          model_fn=make_model_fn(net, len(info.labels), size),
                          run_mode=ModeKeys.EXPORT, auto_batch=False, log_dir=scratch,
                          checkpoint_path=prefix)
        artifacts.ModelInfo(net, size, info.labels, written).write()
        return publish(written, export_dir_for(log_dir, -1))


def cmd_export(args: argparse.Namespace) -> int:
    path = export(args.checkpoint, args.log_dir, net=args.net, image_size=args.image_size)
    print(f"exported SavedModel: {path}")
    return 0


def register(sub: Any) -> None:
    """Add ``export`` to the ``mox`` subparsers."""
    p = job_setup.add_job_parser(sub, "export",
                                 "export a checkpoint as a SavedModel (TF Serving layout)",
                                 cmd_export, net_required=False, data=False)
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="mox train's --log-dir (its newest checkpoint) or a checkpoint prefix")
    p.add_argument("--log-dir", required=True, metavar="DIR",
                   help="writes DIR/<next version>/saved_model.pb with labels.txt")
