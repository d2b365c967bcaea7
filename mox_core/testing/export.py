"""A network's SavedModel, as TensorFlow Serving would load it: it must load, carry mox's
signatures, and compute what the training checkpoint computes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from mox_core.constants import ModeKeys
from mox_core.testing._common import check_finite, tf


def check_export(what: str, name: str, log_dir: str, num_classes: int, images: np.ndarray,
                 model_kwargs: Mapping[str, Any]) -> str:
    """Check the SavedModel that ``mox.run`` exported (version 1) beside the checkpoint in
    ``log_dir`` against that checkpoint, on ``images``; return the SavedModel's folder."""
    export_dir = os.path.join(log_dir, "1")
    exported = _run_saved_model(what, export_dir, images)
    restored = _eval_from_checkpoint(name, log_dir, num_classes, images, model_kwargs)
    expected = (len(images), num_classes)
    if exported.shape != expected:
        raise AssertionError(f"{what}: the exported model gives logits of shape "
                             f"{exported.shape}, expected {expected}")
    if not np.allclose(exported, restored, rtol=1e-4, atol=1e-4):
        raise AssertionError(
            f"{what}: the exported SavedModel computes other logits than the training "
            f"checkpoint in EVAL mode (largest difference "
            f"{np.max(np.abs(exported - restored)):.3g})"
        )
    return export_dir


def _run_saved_model(what: str, export_dir: str, images: np.ndarray) -> np.ndarray:
    if not os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
        raise AssertionError(f"{what}: mox.run exported no SavedModel to {export_dir}")
    try:
        loaded = tf().saved_model.load(export_dir)
    except Exception as exc:
        raise AssertionError(f"{what}: the exported SavedModel {export_dir} does not load: "
                             f"{type(exc).__name__}: {exc}") from exc
    for key in ("serving_default", "predict_object"):
        if key not in loaded.signatures:
            raise AssertionError(f"{what}: the SavedModel lacks the signature {key!r}; "
                                 f"it has {', '.join(loaded.signatures)}")
    outputs = loaded.signatures["serving_default"](images=tf().constant(images))
    logits, probabilities = outputs["logits"].numpy(), outputs["probabilities"].numpy()
    check_finite(what, "the exported model's logits", logits)
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4):
        raise AssertionError(f"{what}: the exported model's probabilities do not sum to 1")
    return logits


def _eval_from_checkpoint(name: str, log_dir: str, num_classes: int, images: np.ndarray,
                          model_kwargs: Mapping[str, Any]) -> np.ndarray:
    from mox_core.nets import get_model_fn

    tf1 = tf().compat.v1
    with tf().Graph().as_default():
        network_fn = get_model_fn(name, ModeKeys.EVAL, num_classes, preprocess_fn=None,
                                  **model_kwargs)
        logits, _ = network_fn(tf().constant(images))
        saver = tf1.train.Saver(tf1.global_variables())
        with tf1.Session() as session:
            saver.restore(session, tf1.train.latest_checkpoint(log_dir))
            return session.run(logits)
