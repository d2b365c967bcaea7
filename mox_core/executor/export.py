"""Writing a SavedModel from a ``ModelSpec``'s ``ExportSpec`` (TF Serving's layout)."""

from __future__ import annotations

import os
import shutil

import tensorflow.compat.v1 as tf

from mox_core.executor.specs import ExportSpec

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

    It is written to a temporary sibling folder and renamed into place, so a crash never
    leaves a half-written version that TF Serving would try to load.
    """
    signature = tf.saved_model.predict_signature_def(
        inputs=export_spec.inputs_dict, outputs=export_spec.outputs_dict
    )
    temporary = export_dir.rstrip("/") + ".tmp-export"
    if tf.io.gfile.exists(temporary):
        tf.io.gfile.rmtree(temporary)
    builder = tf.saved_model.Builder(temporary)
    builder.add_meta_graph_and_variables(
        session,
        [tf.saved_model.tag_constants.SERVING],
        signature_def_map={name: signature for name in SIGNATURE_NAMES},
        main_op=tf.group(tf.local_variables_initializer(), tf.tables_initializer()),
        strip_default_attrs=True,
        clear_devices=True,
    )
    builder.save()
    if "://" in export_dir:
        tf.io.gfile.rename(temporary, export_dir)
    else:
        shutil.move(temporary, export_dir)
    tf.logging.info("Exported SavedModel to %s (signatures: %s; inputs: %s; outputs: %s)",
                    export_dir, ", ".join(SIGNATURE_NAMES), ", ".join(export_spec.inputs_dict),
                    ", ".join(export_spec.outputs_dict))
    return export_dir
