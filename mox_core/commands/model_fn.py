"""The classifier ``model_fn`` every job command hands to ``mox.run``, and the network's
preprocessing it uses.

The exported SavedModel takes ``images``: uint8 ``[N, size, size, 3]`` (decoded, resized) and
applies the network's eval preprocessing itself; it answers ``probabilities`` and ``classes``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import mox_core as mox
from mox_core.constants import ModeKeys
from mox_core.preprocessing import get_data_augmentation_fn


def augmentation(net: str, mode: str, size: int) -> Callable:
    """The network's preprocessing pipeline for ``mode``, to ``size`` x ``size`` pixels."""
    return get_data_augmentation_fn(net, mode, output_height=size, output_width=size)


def make_model_fn(net: str, num_classes: int, size: int, weight_decay: float = 0.0,
                  hooks: Iterable[Any] = ()) -> Callable:
    """``model_fn(inputs, mode)`` of a classifier: ``inputs`` are images and labels (TRAIN,
    EVAL), images and image names (PREDICT), or uint8 images (EXPORT, preprocessed in-graph).
    ``hooks`` run in TRAIN only."""

    def model_fn(inputs: list[Any], mode: str) -> Any:
        import tensorflow.compat.v1 as tf  # the graph is being built: a run has loaded it

        images = inputs[0]
        if mode == ModeKeys.EXPORT:
            raw = images
            images = tf.map_fn(augmentation(net, ModeKeys.EVAL, size), raw,
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
