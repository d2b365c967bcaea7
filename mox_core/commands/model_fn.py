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


#: the graph collection of every tower's ``name`` tensor (``labels``, ``logits``, ``loss``,
#: ``accuracy``) of the classifier built in ``mode``
OUTPUTS = "mox_classifier/{mode}/{name}"


def outputs(mode: str, name: str) -> list[Any]:
    """Every tower's ``name`` tensor of the classifier built in ``mode`` in the current graph:
    what mox train's progress bar and mox eval's report fetch with each step."""
    import tensorflow.compat.v1 as tf

    return tf.get_collection(OUTPUTS.format(mode=mode, name=name))


def make_model_fn(net: str, num_classes: int, size: int, weight_decay: float = 0.0,
                  hooks: Iterable[Any] = (), label_smoothing: float = 0.0,
                  chance_watch: tuple[int, int] | None = None,
                  validation_hooks: Callable[[dict], list] | None = None,
                  batch_norm_decay: float | None = None) -> Callable:
    """``model_fn(inputs, mode)`` of a classifier: ``inputs`` are images and labels (TRAIN,
    EVAL), images and image names (PREDICT), or uint8 images (EXPORT, preprocessed in-graph).
    ``hooks`` run in TRAIN and EVAL.

    ``label_smoothing`` moves the training targets towards uniform (the reported loss stays
    the plain cross-entropy). ``chance_watch=(every, start_step)`` warns when the training loss
    sits at chance level (:class:`~mox_core.executor.guards.ChanceLevelWatch`).
    ``validation_hooks(monitor_info)`` gives the hooks of an evaluation while training (the
    model_fn called in ``inter_mode``): ``monitor_info`` holds ``accuracy``, ``loss`` and
    ``count``, the examples of the batch. ``batch_norm_decay``: ``get_model_fn``'s."""

    def model_fn(inputs: list[Any], mode: str) -> Any:
        import tensorflow.compat.v1 as tf  # the graph is being built: a run has loaded it

        images = inputs[0]
        if mode == ModeKeys.EXPORT:
            raw = images
            images = tf.map_fn(augmentation(net, ModeKeys.EVAL, size), raw,
                               fn_output_signature=tf.float32)
        network_fn = mox.get_model_fn(net, mode, num_classes, weight_decay=weight_decay,
                                      image_height=size, image_width=size,
                                      batch_norm_decay=batch_norm_decay)
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
        objective = loss
        if label_smoothing and mode == ModeKeys.TRAIN:
            objective = tf.losses.softmax_cross_entropy(
                tf.one_hot(labels, num_classes), logits, label_smoothing=label_smoothing,
                loss_collection=None)
        regularization = mox.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        total = tf.add_n([objective, *regularization]) if regularization else objective
        # argmax, not in_top_k: in_top_k counts a tie as a hit, so an untrained network whose
        # logits are all equal would be 100% accurate
        accuracy = tf.reduce_mean(tf.cast(
            tf.equal(tf.argmax(logits, 1, output_type=labels.dtype), labels), tf.float32))
        extra = []
        if mode == ModeKeys.TRAIN and chance_watch is not None:
            from mox_core.executor.guards import ChanceLevelWatch

            extra.append(ChanceLevelWatch(loss, num_classes, *chance_watch))
        if mode == ModeKeys.EVAL and validation_hooks is not None:
            extra += validation_hooks({"accuracy": accuracy, "loss": loss,
                                       "count": tf.shape(labels)[0]})
        for name, tensor in (("labels", labels), ("logits", logits), ("loss", loss),
                             ("accuracy", accuracy)):
            tf.add_to_collection(OUTPUTS.format(mode=mode, name=name), tensor)
        return mox.ModelSpec(loss=total, log_info={"loss": loss, "accuracy": accuracy},
                             hooks=[*hooks, *extra])

    return model_fn
