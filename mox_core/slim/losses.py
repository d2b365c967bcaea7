"""TF-Slim's losses (``slim.losses``), with TF-Slim's argument order.

``tf.contrib.slim.losses`` was ``tf.contrib.losses``, whose functions take the *predictions
first*: ``softmax_cross_entropy(logits, onehot_labels, ...)``, ``sparse_softmax_cross_entropy(
logits, labels, ...)``, ``sigmoid_cross_entropy(logits, multi_class_labels, ...)``,
``mean_squared_error(predictions, labels, ...)``, ``absolute_difference(predictions, labels,
...)``, ``log_loss(predictions, labels, ...)``. ``tf.compat.v1.losses`` (TensorFlow's
"Note that the order of the logits and labels arguments has been changed") takes the labels
first. These functions keep TF-Slim's order, so a ported script that calls them positionally
computes what it did on TF 1.x; by keyword both spellings are the same call. The work is done by
``tf.compat.v1.losses`` (same reduction: the weighted sum over the number of non-zero weights;
same ``LOSSES`` collection), so ``get_total_loss`` sees them and ``mox.run`` trains them.

One difference from ``tf.compat.v1.losses``, kept from TF-Slim: per-sample ``weights`` of shape
``[batch_size]`` are accepted for losses of any rank (they weigh every element of the sample).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

tf1 = tf.compat.v1

__all__ = [
    "absolute_difference",
    "add_loss",
    "compute_weighted_loss",
    "get_losses",
    "get_regularization_losses",
    "get_total_loss",
    "log_loss",
    "mean_squared_error",
    "sigmoid_cross_entropy",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
]


def _required(value: Any, name: str, who: str) -> Any:
    if value is None:
        raise ValueError(f"slim.losses.{who}: {name} must be given (TF-Slim's order is "
                         f"{who}(predictions/logits, labels, ...))")
    return value


def _per_sample(weights: Any, like: Any) -> Any:
    """``[batch]`` weights reshaped to ``[batch, 1, ...]`` so that they weigh whole samples of
    a rank > 1 loss (TF-Slim's rule; TensorFlow's would broadcast them along the last axis)."""
    if isinstance(weights, (int, float)):
        return weights
    weights = tf.convert_to_tensor(weights)
    like = tf.convert_to_tensor(like)
    rank, target = weights.shape.rank, like.shape.rank
    if rank == 1 and target is not None and target > 1:
        return tf.reshape(weights, [-1] + [1] * (target - 1))
    return weights


def _float(value: Any, name: str, who: str) -> tf.Tensor:
    value = tf.convert_to_tensor(value)
    if not value.dtype.is_floating:
        raise TypeError(f"slim.losses.{who}: {name} must be floating point, got "
                        f"{value.dtype.name} tensor {value.name} (check the argument order: "
                        f"{who}(logits, labels) in TF-Slim)")
    return value


def softmax_cross_entropy(logits: Any, onehot_labels: Any = None, weights: Any = 1.0,
                          label_smoothing: float = 0, scope: str | None = None) -> tf.Tensor:
    """Mean softmax cross-entropy of ``logits`` ``[batch, classes]`` against one-hot labels.

    TF-Slim's order (logits first). ``label_smoothing`` moves the labels towards
    ``1 / classes``; ``weights`` is a scalar or one weight per sample. Added to ``LOSSES``.
    """
    _required(onehot_labels, "onehot_labels", "softmax_cross_entropy")
    logits = _float(logits, "logits", "softmax_cross_entropy")
    return tf1.losses.softmax_cross_entropy(onehot_labels, logits, weights=weights,
                                            label_smoothing=label_smoothing, scope=scope)


def sparse_softmax_cross_entropy(logits: Any, labels: Any = None, weights: Any = 1.0,
                                 scope: str | None = None) -> tf.Tensor:
    """Mean softmax cross-entropy of ``logits`` against integer ``labels`` (``[batch]`` or
    ``[batch, 1]``). TF-Slim's order (logits first). Added to ``LOSSES``."""
    _required(labels, "labels", "sparse_softmax_cross_entropy")
    logits = _float(logits, "logits", "sparse_softmax_cross_entropy")
    labels = tf.convert_to_tensor(labels)
    if not labels.dtype.is_integer:
        raise TypeError(f"slim.losses.sparse_softmax_cross_entropy: labels must be integers, got "
                        f"{labels.dtype.name} tensor {labels.name}")
    return tf1.losses.sparse_softmax_cross_entropy(labels, logits, weights=weights, scope=scope)


def sigmoid_cross_entropy(logits: Any, multi_class_labels: Any = None, weights: Any = 1.0,
                          label_smoothing: float = 0, scope: str | None = None) -> tf.Tensor:
    """Mean sigmoid cross-entropy of ``logits`` against 0/1 ``multi_class_labels`` of the same
    shape (multi-label classification). TF-Slim's order (logits first). Added to ``LOSSES``."""
    _required(multi_class_labels, "multi_class_labels", "sigmoid_cross_entropy")
    logits = _float(logits, "logits", "sigmoid_cross_entropy")
    return tf1.losses.sigmoid_cross_entropy(multi_class_labels, logits,
                                            weights=_per_sample(weights, logits),
                                            label_smoothing=label_smoothing, scope=scope)


def mean_squared_error(predictions: Any, labels: Any = None, weights: Any = 1.0,
                       scope: str | None = None) -> tf.Tensor:
    """Mean of ``(predictions - labels) ** 2``. TF-Slim's order (predictions first).
    Added to ``LOSSES``."""
    _required(labels, "labels", "mean_squared_error")
    return tf1.losses.mean_squared_error(labels, predictions,
                                         weights=_per_sample(weights, predictions), scope=scope)


def absolute_difference(predictions: Any, labels: Any = None, weights: Any = 1.0,
                        scope: str | None = None) -> tf.Tensor:
    """Mean of ``|predictions - labels|``. TF-Slim's order (predictions first).
    Added to ``LOSSES``."""
    _required(labels, "labels", "absolute_difference")
    return tf1.losses.absolute_difference(labels, predictions,
                                          weights=_per_sample(weights, predictions), scope=scope)


def log_loss(predictions: Any, labels: Any = None, weights: Any = 1.0, epsilon: float = 1e-7,
             scope: str | None = None) -> tf.Tensor:
    """Mean binary log loss of probabilities ``predictions`` against 0/1 ``labels``.
    TF-Slim's order (predictions first). Added to ``LOSSES``."""
    _required(labels, "labels", "log_loss")
    return tf1.losses.log_loss(labels, predictions, weights=_per_sample(weights, predictions),
                               epsilon=epsilon, scope=scope)


def compute_weighted_loss(losses: Any, weights: Any = 1.0, scope: str | None = None) -> tf.Tensor:
    """The weighted mean of a tensor of per-element ``losses`` (sum over non-zero weights),
    added to ``LOSSES``: how to make a loss of your own count in ``get_total_loss``."""
    return tf1.losses.compute_weighted_loss(losses, weights=_per_sample(weights, losses),
                                            scope=scope)


def add_loss(loss: Any, loss_collection: str = tf1.GraphKeys.LOSSES) -> None:
    """Add a scalar ``loss`` you computed yourself to ``loss_collection`` (``LOSSES``)."""
    tf1.losses.add_loss(loss, loss_collection)


def get_losses(scope: str | None = None, loss_collection: str = tf1.GraphKeys.LOSSES) -> list:
    """The losses added so far (``LOSSES``), those whose name starts with ``scope`` when given.

    As TF-Slim's, this is the whole graph's collection. With several devices ``mox.run`` calls
    ``model_fn`` once per device: use ``mox.get_collection(tf.GraphKeys.LOSSES)`` there to get
    the current device's losses only.
    """
    return tf1.get_collection(loss_collection, scope)


def get_regularization_losses(scope: str | None = None) -> list:
    """The regularization losses (``weights_regularizer`` of the layers), below ``scope``."""
    return tf1.get_collection(tf1.GraphKeys.REGULARIZATION_LOSSES, scope)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss") -> tf.Tensor:
    """The sum of :func:`get_losses` and, by default, :func:`get_regularization_losses`.

    A graph without any loss is a ``ValueError`` saying so (TF-Slim failed inside ``add_n``).
    """
    losses = get_losses()
    if add_regularization_losses:
        losses += get_regularization_losses()
    if not losses:
        raise ValueError("get_total_loss: no loss in the graph yet; create one with a "
                         "slim.losses function (or add_loss) before asking for the total")
    return tf.add_n(losses, name=name)
