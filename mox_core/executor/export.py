"""EXPORT: ``model_fn`` on placeholders, a checkpoint restored into it, written as a SavedModel
in TF Serving's layout (a numbered folder under ``log_dir``) from its ``ExportSpec``."""

from __future__ import annotations

import os

import tensorflow.compat.v1 as tf

from mox_core.constants import ModeKeys
from mox_core.executor.config import SINGLE_TOWER, RunConfig
from mox_core.executor.graph import check_spec
from mox_core.executor.inputs import Inputs, build_inputs, call_with_mode
from mox_core.executor.specs import ExportSpec
from mox_core.executor.towers import Tower, VariableSharing, tower_context
from mox_core.file.atomic import publish_folder

#: Signature names written: TF Serving's default, and the one ModelArts clients call.
SIGNATURE_NAMES = ("serving_default", "predict_object")


def export_dir_for(log_dir: str, version: int | str) -> str:
    """The folder ``version`` asks for under ``log_dir``; an existing one is an error."""
    if version == -1:
        taken = [int(name) for name in _listdir(log_dir) if name.isdigit()]
        version = max(taken, default=0) + 1
    path = os.path.join(log_dir, str(version))
    if tf.io.gfile.exists(path):
        raise ValueError(
            f"export directory {path} already exists; use ExportSpec(version=-1) for the next "
            f"free version, another version number, or remove it"
        )
    return path


def _listdir(path: str) -> list[str]:
    if not tf.io.gfile.isdir(path):
        return []
    return [name.rstrip("/") for name in tf.io.gfile.listdir(path)]


def write_saved_model(session: tf.Session, export_spec: ExportSpec, export_dir: str) -> str:
    """Write the session's graph and variables as a SavedModel with both signatures.

    It is written to a hidden staging folder beside ``export_dir`` and renamed into place
    (``mox_core.file.atomic``), so a crash never leaves a half-written version that TF Serving
    would try to load.
    """
    signature = tf.saved_model.predict_signature_def(
        inputs=export_spec.inputs_dict, outputs=export_spec.outputs_dict
    )
    with publish_folder(export_dir) as staging:
        builder = tf.saved_model.Builder(staging)
        builder.add_meta_graph_and_variables(
            session,
            [tf.saved_model.tag_constants.SERVING],
            signature_def_map={name: signature for name in SIGNATURE_NAMES},
            main_op=tf.group(tf.local_variables_initializer(), tf.tables_initializer()),
            strip_default_attrs=True,
            clear_devices=True,
        )
        builder.save()
    tf.logging.info("Exported SavedModel to %s (signatures: %s; inputs: %s; outputs: %s)",
                    export_dir, ", ".join(SIGNATURE_NAMES), ", ".join(export_spec.inputs_dict),
                    ", ".join(export_spec.outputs_dict))
    return export_dir


def export_from(config: RunConfig, checkpoint: str, trained_inputs: Inputs | None = None) -> str:
    """Build ``model_fn`` in EXPORT mode on placeholders shaped like one tower's inputs of
    training (``trained_inputs``, or ``input_fn``'s built again), restore ``checkpoint`` and
    write it; returns the export folder."""
    if trained_inputs is None:
        with tf.Graph().as_default():
            trained_inputs = build_inputs(config.input_fn, ModeKeys.EXPORT, 1, config.batch_size,
                                          config.auto_batch)
    graph = tf.Graph()
    with graph.as_default():
        tf.train.get_or_create_global_step()
        placeholders = [
            tf.nest.map_structure(
                lambda t, i=i: tf.placeholder(t.dtype, [None] + t.shape.as_list()[1:],
                                              name=f"input_{i}"), value)
            for i, value in enumerate(trained_inputs.per_tower[0])
        ]
        tower = Tower(0, 1, "")
        with tower_context(tower), VariableSharing().call(tower), config.precision.compiled():
            spec = call_with_mode(config.model_fn, "model_fn", placeholders, ModeKeys.EXPORT)
        check_spec(spec, ModeKeys.EXPORT)
        export_dir = export_dir_for(config.log_dir, spec.export_spec.version)
        saver = tf.train.Saver()
        with tf.Session(config=config.session_config(SINGLE_TOWER)) as session:
            session.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            saver.restore(session, checkpoint)
            return write_saved_model(session, spec.export_spec, export_dir)
