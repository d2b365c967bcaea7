"""One registered network, end to end: it builds in TRAIN and EVAL mode with consistent
variables and sane outputs, trains one step, exports, and computes the same in NCHW as in NHWC."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from mox_core import plugins
from mox_core.constants import ModeKeys
from mox_core.testing._common import check_finite, describe_network, run_folder, tf
from mox_core.testing.export import check_export
from mox_core.testing.graphs import build_network, random_images, randomized_values, run_graph
from mox_core.testing.training import train_one_step


@dataclasses.dataclass
class NetworkCheck:
    """What :func:`check_network` measured."""

    name: str
    distribution: str
    image_size: int
    num_classes: int
    variables: list[str]  # TRAIN-mode global variables, by name
    end_points: list[str]  # end point keys of the EVAL-mode graph
    logits: np.ndarray  # EVAL-mode logits of the random batch
    loss: float | None = None  # the loss of the training step, when trained
    log_dir: str | None = None  # the checkpoint folder of the training step (kept with tmp_dir)
    export_dir: str | None = None  # the SavedModel folder (kept with tmp_dir)


def check_network(
    name: str,
    *,
    num_classes: int = 5,
    image_size: int | None = None,
    batch_size: int = 2,
    train: bool = True,
    export: bool | None = None,
    tmp_dir: str | os.PathLike | None = None,
    distribution: str | None = None,
    end_points: Iterable[str] = (),
    optimizer: str = "sgd",
    learning_rate: float = 0.01,
    model_kwargs: Mapping[str, Any] | None = None,
) -> NetworkCheck:
    """Check that the registered network ``name`` builds, trains one step and exports.

    In TRAIN and EVAL mode (own graphs, ``image_size`` default: the network's
    ``default_image_size``): it creates variables, every EVAL variable also exists in TRAIN
    (so a training checkpoint restores for evaluation), the logits are
    ``[batch_size, num_classes]``, ``end_points`` is a dict of tensors holding the given keys
    (``Predictions`` or ``predictions``, when present, sums to 1), the logits pattern of its
    meta names a layer with ``num_classes`` outputs, and EVAL logits are finite and
    deterministic.

    ``train``: one ``mox.run`` TRAIN step (``optimizer``, ``learning_rate``) on random images
    gives a finite loss and a checkpoint at global step 1. ``export`` (default: ``train``): the
    run exports a SavedModel (``mox.ExportKeys.TF_SERVING``) that loads in a fresh graph, has
    the ``serving_default`` and ``predict_object`` signatures, and computes the logits the
    checkpoint computes in EVAL mode. ``tmp_dir`` keeps the run's folders (e.g. pytest's
    ``tmp_path``); without it they are temporary. ``distribution``: the network must be
    registered by it. ``model_kwargs`` go to the builder.
    """
    from mox_core.nets import get_model_meta

    record = plugins.registry("networks").get(name)
    what = describe_network(name)
    if distribution is not None and record.distribution != distribution:
        raise AssertionError(f"{what} is registered by {record.distribution!r}, "
                             f"not by {distribution!r}")
    if export is None:
        export = train
    if export and not train:
        raise ValueError("check_network: export=True needs train=True (it exports the "
                         "checkpoint of the training step)")
    meta = get_model_meta(name)
    size = image_size or meta.default_image_size
    kwargs = dict(model_kwargs or {})
    tf1 = tf().compat.v1

    with tf().Graph().as_default():
        logits, points = build_network(name, ModeKeys.TRAIN, num_classes, size, batch_size,
                                       **kwargs)
        _check_outputs(what, ModeKeys.TRAIN, logits, points, batch_size, num_classes)
        train_variables = {v.op.name: v.shape.as_list() for v in tf1.global_variables()}
        if not tf1.trainable_variables():
            raise AssertionError(f"{what} creates no trainable variable in TRAIN mode")
        _check_logits_pattern(what, meta.default_logits_pattern, train_variables, num_classes)

    with tf().Graph().as_default():
        tf1.set_random_seed(0)
        logits, points = build_network(name, ModeKeys.EVAL, num_classes, size, batch_size,
                                       **kwargs)
        _check_outputs(what, ModeKeys.EVAL, logits, points, batch_size, num_classes)
        missing = sorted(set(end_points) - set(points))
        if missing:
            keys = sorted(points)
            shown = ", ".join(keys[:20]) + (f", ... ({len(keys)} in all)" if len(keys) > 20 else "")
            raise AssertionError(f"{what}: end_points lack {', '.join(missing)}; it has: {shown}")
        eval_variables = {v.op.name: v.shape.as_list() for v in tf1.global_variables()}
        _check_eval_restores(what, train_variables, eval_variables)
        # TF-Slim's key: 'Predictions' in most families, 'predictions' in the ResNets.
        predictions = points.get("Predictions", points.get("predictions"))
        fetches = [logits, logits] + ([predictions] if predictions is not None else [])
        values = run_graph(fetches)
    first, again = values[0], values[1]
    check_finite(what, "EVAL-mode logits", first)
    if not np.array_equal(first, again):
        raise AssertionError(f"{what}: EVAL-mode logits differ between two runs on the same "
                             f"batch (dropout or batch statistics left on in EVAL mode?)")
    if predictions is not None:
        sums = np.asarray(values[2]).reshape(batch_size, -1).sum(axis=1)
        if not np.allclose(sums, 1.0, atol=1e-4):
            raise AssertionError(f"{what}: its 'Predictions' end point should hold probabilities "
                                 f"summing to 1 per image; they sum to {sums.tolist()}")

    result = NetworkCheck(name, record.distribution, size, num_classes, sorted(train_variables),
                          sorted(points), first)
    if not train:
        return result
    with run_folder(tmp_dir, name) as log_dir:
        result.loss = train_one_step(what, name, log_dir, num_classes, size, batch_size, export,
                                     optimizer, learning_rate, kwargs)
        result.log_dir = log_dir if tmp_dir is not None else None
        if export:
            images = random_images(batch_size + 1, size, seed=1)
            export_dir = check_export(what, name, log_dir, num_classes, images, kwargs)
            result.export_dir = export_dir if tmp_dir is not None else None
    return result


def _check_outputs(what: str, mode: str, logits: Any, points: Any, batch: int,
                   num_classes: int) -> None:
    tensor = tf().Tensor
    if not isinstance(logits, tensor):
        raise AssertionError(f"{what} in {mode} mode: the builder must return (logits, "
                             f"end_points) with logits a tensor, got {type(logits).__name__}")
    if logits.shape.as_list() != [batch, num_classes]:
        raise AssertionError(f"{what} in {mode} mode: logits have shape {logits.shape}, "
                             f"expected [{batch}, {num_classes}] (batch, num_classes)")
    if not logits.dtype.is_floating:
        raise AssertionError(f"{what} in {mode} mode: logits are {logits.dtype.name}, "
                             f"expected a float dtype")
    if not isinstance(points, Mapping):
        raise AssertionError(f"{what} in {mode} mode: end_points must be a dict of tensors, "
                             f"got {type(points).__name__}")
    bad = sorted(str(key) for key, value in points.items() if not isinstance(value, tensor))
    if bad:
        raise AssertionError(f"{what} in {mode} mode: end_points {', '.join(bad)} are not "
                             f"tensors")


def _check_eval_restores(what: str, train_variables: Mapping[str, list],
                         eval_variables: Mapping[str, list]) -> None:
    """A TRAIN checkpoint must restore into the EVAL graph: same names, same shapes."""
    only_eval = sorted(set(eval_variables) - set(train_variables))
    if only_eval:
        raise AssertionError(
            f"{what}: EVAL mode creates variables TRAIN mode does not, so a training "
            f"checkpoint cannot restore them: {', '.join(only_eval[:5])}"
        )
    reshaped = [n for n, s in eval_variables.items() if train_variables[n] != s]
    if reshaped:
        raise AssertionError(f"{what}: variables change shape between TRAIN and EVAL mode: "
                             f"{', '.join(sorted(reshaped)[:5])}")


def _check_logits_pattern(what: str, pattern: str, variables: Mapping[str, list],
                          num_classes: int) -> None:
    matching = {n: s for n, s in variables.items() if pattern in n}
    if not any(s and s[-1] == num_classes for s in matching.values()):
        raise AssertionError(
            f"{what}: its default_logits_pattern {pattern!r} should name the logits layer's "
            f"variables (last dimension num_classes={num_classes}); it matches "
            f"{', '.join(sorted(matching)) or 'no variable'}"
        )


def check_data_formats(name: str, *, num_classes: int = 5, image_size: int | None = None,
                       batch: int = 2, run_mode: str = ModeKeys.EVAL, rtol: float = 1e-4,
                       atol: float = 1e-4, **kwargs: Any) -> np.ndarray:
    """Check that ``data_format='NCHW'`` computes the NHWC logits with the same weights.

    Both graphs get identical variable values (batch-norm statistics randomized, so a wrong
    channel axis shows); the logits must agree within ``rtol``/``atol``. Returns them.
    """
    tf1 = tf().compat.v1
    what = describe_network(name)
    results = {}
    values = None
    for data_format in ("NHWC", "NCHW"):
        with tf().Graph().as_default():
            logits, _ = build_network(name, run_mode, num_classes, image_size, batch,
                                      data_format=data_format, **kwargs)
            if values is None:
                values = randomized_values()
            variables = tf1.global_variables()
            names = sorted(v.op.name for v in variables)
            if names != sorted(values):
                raise AssertionError(f"{what}: NCHW creates other variables than NHWC: "
                                     f"{sorted(set(names) ^ set(values))[:5]}")
            assignments = [tf1.assign(v, values[v.op.name]) for v in variables]
            results[data_format] = run_graph(logits, assignments)
    nhwc, nchw = results["NHWC"], results["NCHW"]
    if not np.allclose(nhwc, nchw, rtol=rtol, atol=atol):
        raise AssertionError(f"{what}: NCHW logits differ from NHWC ones with the same weights "
                             f"(largest difference {np.max(np.abs(nhwc - nchw)):.3g})")
    return nhwc
