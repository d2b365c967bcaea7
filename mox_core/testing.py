"""Conformance checks for mox plugins: call them from a plugin's own tests.

A plugin author tests what the plugin registers the way mox will use it::

    # tests/test_registrations.py of the distribution "my-nets"
    import pytest
    from mox_core import testing

    def test_the_plugin_is_installed_and_its_records_resolve():
        testing.check_plugin_registrations("my-nets", expected={"networks": ["tiny_net"]})

    @pytest.mark.parametrize("name", testing.registered_names("my-nets", "networks"))
    def test_network(name, tmp_path):
        testing.check_network(name, tmp_dir=tmp_path, distribution="my-nets")

Every ``check_*`` function raises ``AssertionError`` with a message naming the plugin's
distribution and the network, pipeline or optimizer that is wrong, and what was expected, so a
failing test reads as a bug report. They return what they measured (shapes, the training loss,
the export folder) for further assertions. The module needs TensorFlow (imported on first use)
but not pytest: plain asserts and temporary folders are all it uses.

The networks are built on random inputs in their own ``tf.Graph`` (nothing leaks into the
caller's graph); pass a small ``image_size`` where a network allows it, to keep tests fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from mox_core import hookspecs, plugins
from mox_core.constants import ModeKeys
from mox_core.registry import resolve

__all__ = [
    "NetworkCheck",
    "build_network",
    "check_data_formats",
    "check_network",
    "check_optimizer",
    "check_plugin_registrations",
    "check_learns",
    "check_preprocessing",
    "plugin_info",
    "random_images",
    "registered_names",
    "run_graph",
    "toy_task",
]

#: The field of each record kind that names code, checked by ``check_plugin_registrations``.
_TARGET_FIELDS = {
    "networks": "builder",
    "preprocessing": "factory",
    "optimizers": "factory",
    "dataset_readers": "reader",
    "datasets": "loader",
    "filesystems": "backend",
}


def _tf():
    import tensorflow as tf

    return tf


# --------------------------------------------------------------------------- the plugin


def plugin_info(distribution: str) -> plugins.PluginInfo:
    """The loaded plugin of ``distribution``, found through the ``mox`` entry-point group.

    Fails when the distribution is not installed, declares no entry point in the group, its
    plugin module failed to import, or mox saw another version than the installed one.
    """
    try:
        installed = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise AssertionError(
            f"distribution {distribution!r} is not installed (pip install it, e.g. "
            f"pip install -e . in its folder, before running its tests)"
        ) from None
    infos = [info for info in plugins.plugin_infos() if info.distribution == distribution]
    if not infos:
        raise AssertionError(
            f"distribution {distribution!r} {installed} is installed but declares no entry point "
            f"in the group {hookspecs.ENTRY_POINT_GROUP!r}; its pyproject.toml needs e.g.\n"
            f"[project.entry-points.{hookspecs.ENTRY_POINT_GROUP}]\n"
            f'my_plugin = "my_package.plugin"'
        )
    for info in infos:
        if not info.loaded:
            raise AssertionError(
                f"plugin {info.name!r} of distribution {distribution!r} ({info.module}) failed "
                f"to load: {info.error}"
            )
        if info.version != installed:
            raise AssertionError(
                f"plugin {info.name!r} of distribution {distribution!r}: mox found version "
                f"{info.version}, but {installed} is installed (a stale install on sys.path?)"
            )
    return infos[0]


def registered_names(distribution: str, kind: str = "networks",
                     pattern: str | None = None) -> list[str]:
    """Names of ``kind`` (``networks``, ``preprocessing``, ``optimizers``, ...) that
    ``distribution`` registers, naturally sorted, optionally filtered by a shell pattern.

    Meant for ``pytest.mark.parametrize``: one test per registered network.
    """
    registry = plugins.registry(kind)
    return [name for name in registry.names(pattern)
            if registry.get(name).distribution == distribution]


def check_plugin_registrations(
    distribution: str, expected: Mapping[str, Iterable[str]] | None = None
) -> dict[str, list[str]]:
    """Check everything ``distribution`` registers; return ``{kind: [names]}``.

    The plugin must be found through its entry point (see :func:`plugin_info`) and register
    something; every record's code target (``"module:attribute"``) must import and be
    callable; a network's meta must be sane and its preprocessing pipeline registered. With
    ``expected`` (``{kind: names}``), the registered names must be exactly those, per kind.
    Two distributions registering one name fail here too, naming both.
    """
    plugin_info(distribution)
    found = plugins.registered_by(distribution)
    if not found:
        raise AssertionError(
            f"distribution {distribution!r} loads but registers nothing: its plugin module "
            f"implements no hook of mox_core.hookspecs, or its hooks return empty lists"
        )
    for kind, names in found.items():
        registry = plugins.registry(kind)
        for name in names:
            record = registry.get(name)
            what = f"{registry.kind} {name!r} of distribution {distribution!r}"
            field = _TARGET_FIELDS.get(kind)
            if field is not None:
                _check_target(what, field, getattr(record, field))
            if kind == "networks":
                _check_network_record(what, record)
            if kind == "datasets":
                _check_target(what, "meta", record.meta)
    if expected is not None:
        wanted = {kind: sorted(names) for kind, names in expected.items() if names}
        got = {kind: sorted(names) for kind, names in found.items()}
        if wanted != got:
            lines = []
            for kind in sorted(set(wanted) | set(got)):
                missing = sorted(set(wanted.get(kind, ())) - set(got.get(kind, ())))
                extra = sorted(set(got.get(kind, ())) - set(wanted.get(kind, ())))
                if missing:
                    lines.append(f"  {kind} expected but not registered: {', '.join(missing)}")
                if extra:
                    lines.append(f"  {kind} registered but not expected: {', '.join(extra)}")
            raise AssertionError(
                f"distribution {distribution!r} does not register what was expected:\n"
                + "\n".join(lines)
            )
    return found


def _check_target(what: str, field: str, target: Any) -> None:
    try:
        obj = resolve(target, what=f"{what} {field}")
    except Exception as exc:
        raise AssertionError(f"{what}: its {field} {target!r} cannot be loaded: "
                             f"{type(exc).__name__}: {exc}") from exc
    if not callable(obj):
        raise AssertionError(f"{what}: its {field} {target!r} is {obj!r}, not callable")


def _check_network_record(what: str, record: Any) -> None:
    size = record.default_image_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise AssertionError(f"{what}: default_image_size must be a positive int, got {size!r}")
    offset = record.default_labels_offset
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise AssertionError(f"{what}: default_labels_offset must be an int >= 0 (1 for 1000 "
                             f"ImageNet classes without background), got {offset!r}")
    if not isinstance(record.default_logits_pattern, str) or not record.default_logits_pattern:
        raise AssertionError(f"{what}: default_logits_pattern must be a non-empty string naming "
                             f"the logits layer's variables, got {record.default_logits_pattern!r}")
    pipelines = plugins.registry("preprocessing")
    if record.preprocessing is not None and record.preprocessing not in pipelines:
        raise AssertionError(
            f"{what}: its preprocessing {record.preprocessing!r} is not a registered pipeline; "
            f"registered: {', '.join(pipelines.names())}"
        )


# --------------------------------------------------------------------------- building blocks


def random_images(batch: int, size: int | Sequence[int], channels: int = 3,
                  seed: int = 0) -> np.ndarray:
    """A float32 NHWC batch of standard normal pixels; ``size`` is an int or ``(h, w)``."""
    height, width = (size, size) if isinstance(size, int) else size
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, height, width, channels)).astype(np.float32)


def build_network(name: str, run_mode: str = ModeKeys.EVAL, num_classes: int = 10,
                  image_size: int | None = None, batch: int = 2, seed: int = 0, **kwargs: Any):
    """Build ``name`` on a constant random batch in the current graph: ``(logits, end_points)``.

    ``image_size`` defaults to the network's ``default_image_size``; ``kwargs`` go to
    ``mox.get_model_fn`` (e.g. ``data_format``, ``scope``, model kwargs). No preprocessing.
    """
    from mox_core.nets import get_model_fn, get_model_meta

    tf = _tf()
    size = image_size or get_model_meta(name).default_image_size
    network_fn = get_model_fn(name, run_mode, num_classes, preprocess_fn=None, **kwargs)
    return network_fn(tf.constant(random_images(batch, size, seed=seed)))


def run_graph(fetches: Any, assignments: Sequence[Any] = (), feed_dict: Any = None) -> Any:
    """Initialize the current graph's variables, run ``assignments``, then return ``fetches``."""
    tf1 = _tf().compat.v1
    with tf1.Session() as session:
        session.run([tf1.global_variables_initializer(), tf1.local_variables_initializer()])
        if assignments:
            session.run(list(assignments))
        return session.run(fetches, feed_dict)


@contextlib.contextmanager
def _folder(tmp_dir: str | os.PathLike | None, name: str) -> Iterator[str]:
    """A fresh folder named after ``name`` under ``tmp_dir``, or a temporary one removed after."""
    if tmp_dir is None:
        with tempfile.TemporaryDirectory(prefix=f"mox-check-{name}-") as folder:
            yield folder
        return
    base = os.path.join(os.fspath(tmp_dir), name)
    folder, n = base, 1
    while os.path.exists(folder):
        n += 1
        folder = f"{base}-{n}"
    os.makedirs(folder)
    yield folder


def _describe_network(name: str) -> str:
    distribution = plugins.registry("networks").get(name).distribution
    return f"network {name!r} (distribution {distribution!r})"


# --------------------------------------------------------------------------- networks


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
    (``Predictions`` or ``predictions``, when present, sums to 1), the logits pattern of its meta names a layer
    with ``num_classes`` outputs, and EVAL logits are finite and deterministic.

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
    what = _describe_network(name)
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
    tf = _tf()
    tf1 = tf.compat.v1

    with tf.Graph().as_default():
        logits, points = build_network(name, ModeKeys.TRAIN, num_classes, size, batch_size,
                                       **kwargs)
        _check_outputs(what, ModeKeys.TRAIN, logits, points, batch_size, num_classes)
        train_variables = {v.op.name: v.shape.as_list() for v in tf1.global_variables()}
        if not tf1.trainable_variables():
            raise AssertionError(f"{what} creates no trainable variable in TRAIN mode")
        _check_logits_pattern(what, meta.default_logits_pattern, train_variables, num_classes)

    with tf.Graph().as_default():
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
        # TF-Slim's key: 'Predictions' in most families, 'predictions' in the ResNets.
        predictions = points.get("Predictions", points.get("predictions"))
        fetches = [logits, logits] + ([predictions] if predictions is not None else [])
        values = run_graph(fetches)
    first, again = values[0], values[1]
    _check_finite(what, "EVAL-mode logits", first)
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
    with _folder(tmp_dir, name) as log_dir:
        result.loss = _train_one_step(what, name, log_dir, num_classes, size, batch_size, export,
                                      optimizer, learning_rate, kwargs)
        result.log_dir = log_dir if tmp_dir is not None else None
        if export:
            export_dir = os.path.join(log_dir, "1")
            images = random_images(batch_size + 1, size, seed=1)
            exported = _run_saved_model(what, export_dir, images)
            restored = _eval_from_checkpoint(name, log_dir, num_classes, images, kwargs)
            if exported.shape != (batch_size + 1, num_classes):
                raise AssertionError(f"{what}: the exported model gives logits of shape "
                                     f"{exported.shape}, expected {(batch_size + 1, num_classes)}")
            if not np.allclose(exported, restored, rtol=1e-4, atol=1e-4):
                raise AssertionError(
                    f"{what}: the exported SavedModel computes other logits than the training "
                    f"checkpoint in EVAL mode (largest difference "
                    f"{np.max(np.abs(exported - restored)):.3g})"
                )
            result.export_dir = export_dir if tmp_dir is not None else None
    return result


def _check_outputs(what: str, mode: str, logits: Any, points: Any, batch: int,
                   num_classes: int) -> None:
    tf = _tf()
    if not isinstance(logits, tf.Tensor):
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
    bad = sorted(str(key) for key, value in points.items() if not isinstance(value, tf.Tensor))
    if bad:
        raise AssertionError(f"{what} in {mode} mode: end_points {', '.join(bad)} are not "
                             f"tensors")


def _check_logits_pattern(what: str, pattern: str, variables: Mapping[str, list],
                          num_classes: int) -> None:
    matching = {n: s for n, s in variables.items() if pattern in n}
    if not any(s and s[-1] == num_classes for s in matching.values()):
        raise AssertionError(
            f"{what}: its default_logits_pattern {pattern!r} should name the logits layer's "
            f"variables (last dimension num_classes={num_classes}); it matches "
            f"{', '.join(sorted(matching)) or 'no variable'}"
        )


def _check_finite(what: str, label: str, values: Any) -> None:
    values = np.asarray(values)
    if not np.all(np.isfinite(values)):
        raise AssertionError(f"{what}: {label} are not all finite: {values}")


def _train_one_step(what, name, log_dir, num_classes, size, batch_size, export, optimizer,
                    learning_rate, kwargs) -> float:
    import mox_core as mox

    tf = _tf()
    tf1 = tf.compat.v1
    images = random_images(batch_size, size)
    labels = (np.arange(batch_size) % num_classes).astype(np.int64)

    def input_fn(mode):
        return tf1.data.Dataset.from_tensor_slices((images, labels)).repeat()

    def model_fn(inputs, mode):
        batch, targets = inputs
        sized = {"image_height": size, "image_width": size} if mode == ModeKeys.EXPORT else {}
        network_fn = mox.get_model_fn(name, mode, num_classes, preprocess_fn=None, **sized,
                                      **kwargs)
        logits, _ = network_fn(tf.cast(batch, tf.float32))
        if mode == ModeKeys.EXPORT:
            outputs = {"logits": logits, "probabilities": tf.nn.softmax(logits)}
            return mox.ModelSpec(export_spec=mox.ExportSpec({"images": batch}, outputs,
                                                             version=1))
        loss = tf1.losses.sparse_softmax_cross_entropy(targets, logits)
        regularization = tf1.losses.get_regularization_losses()
        if regularization:
            loss += tf.add_n(regularization)
        return mox.ModelSpec(loss=loss, log_info={"loss": loss})

    metrics = mox.run(
        input_fn=input_fn, model_fn=model_fn,
        optimizer_fn=mox.get_optimizer_fn(optimizer, learning_rate),
        run_mode=ModeKeys.TRAIN, batch_size=batch_size, log_dir=log_dir,
        max_number_of_steps=1, log_every_n_steps=1,
        export_model=mox.ExportKeys.TF_SERVING if export else False,
    )
    loss = (metrics or {}).get("loss")
    if loss is None or not math.isfinite(float(loss)):
        raise AssertionError(f"{what}: one training step through mox.run gave loss {loss!r}, "
                             f"expected a finite number")
    checkpoint = tf1.train.latest_checkpoint(log_dir)
    if checkpoint is None:
        raise AssertionError(f"{what}: training through mox.run wrote no checkpoint in {log_dir}")
    step = tf1.train.load_variable(checkpoint, "global_step")
    if int(step) != 1:
        raise AssertionError(f"{what}: after one training step the checkpoint's global step "
                             f"is {step}, expected 1")
    return float(loss)


def toy_task(size: int, count: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A learnable two-class task: ``count`` standard normal ``size`` x ``size`` RGB images, the
    odd ones with one fixed random pattern added; returns ``(images, labels)``."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 2
    pattern = rng.standard_normal((size, size, 3)).astype(np.float32)
    images = rng.standard_normal((count, size, size, 3)).astype(np.float32)
    images += labels[:, None, None, None] * pattern
    return images, labels.astype(np.int64)


def _loss_recorder(loss: Any) -> Any:
    """A session hook that keeps the value of ``loss`` at every training step in ``values``."""
    import mox_core as mox

    tf1 = _tf().compat.v1

    class LossRecorder(mox.AggregativeSessionRunHook):
        def __init__(self) -> None:
            self.values: list[float] = []

        def before_run(self, run_context: Any) -> Any:
            return tf1.train.SessionRunArgs(loss)

        def after_run(self, run_context: Any, run_values: Any) -> None:
            self.values.append(float(run_values.results))

        def support_aggregation(self) -> bool:
            return False

        def support_sync_workers(self) -> bool:
            return False

        def run_inter_mode(self) -> bool:
            return False

    return LossRecorder()


def check_learns(name: str, *, image_size: int, steps: int, optimizer: str = "adam",
                 learning_rate: float = 1e-3, optimizer_kwargs: Mapping[str, Any] | None = None,
                 batch_size: int = 8, examples: int = 32, aux_logits_weight: float = 0.0,
                 factor: float = 0.7, tmp_dir: str | os.PathLike | None = None,
                 **model_kwargs: Any) -> list[float]:
    """Train ``name`` ``steps`` steps through ``mox.run`` on :func:`toy_task` in training mode
    (batch-norm updates, dropout) and check the loss went down: the mean of the last three
    steps' losses must be below ``factor`` times the mean of the first three. Returns every
    step's loss. ``aux_logits_weight`` adds the ``AuxLogits`` end point's loss, as the
    Inception and NASNet recipes do; ``model_kwargs`` go to ``mox.get_model_fn``."""
    import mox_core as mox

    if steps < 6:
        raise ValueError(f"check_learns needs at least 6 steps to compare first and last, "
                         f"got {steps}")
    tf1 = _tf().compat.v1
    what = _describe_network(name)
    images, labels = toy_task(image_size, examples)
    recorders: list[Any] = []

    def input_fn(mode):
        return tf1.data.Dataset.from_tensor_slices((images, labels)).repeat()

    def model_fn(inputs, mode):
        batch, targets = inputs
        network_fn = mox.get_model_fn(name, mode, 2, preprocess_fn=None, **model_kwargs)
        logits, end_points = network_fn(batch)
        loss = tf1.losses.sparse_softmax_cross_entropy(targets, logits)
        if aux_logits_weight:
            loss += aux_logits_weight * tf1.losses.sparse_softmax_cross_entropy(
                targets, end_points["AuxLogits"])
        recorders.append(_loss_recorder(loss))
        return mox.ModelSpec(loss=loss, log_info={"loss": loss}, hooks=recorders[-1:])

    with _folder(tmp_dir, name) as log_dir:
        mox.run(input_fn=input_fn, model_fn=model_fn,
                optimizer_fn=mox.get_optimizer_fn(optimizer, learning_rate,
                                                  **dict(optimizer_kwargs or {})),
                run_mode=ModeKeys.TRAIN, batch_size=batch_size, log_dir=log_dir,
                max_number_of_steps=steps, log_every_n_steps=steps)
    losses = recorders[-1].values
    if len(losses) != steps or not all(math.isfinite(value) for value in losses):
        raise AssertionError(f"{what}: expected {steps} finite training losses through mox.run, "
                             f"got {losses}")
    first, last = float(np.mean(losses[:3])), float(np.mean(losses[-3:]))
    if not last < factor * first:
        raise AssertionError(f"{what}: the loss did not go down on a learnable toy task in "
                             f"{steps} steps ({optimizer}, learning rate {learning_rate}): mean "
                             f"of the first 3 steps {first:.4f}, of the last 3 {last:.4f}, "
                             f"expected below {factor} x the first; losses {losses}")
    return losses


def _run_saved_model(what: str, export_dir: str, images: np.ndarray) -> np.ndarray:
    tf = _tf()
    if not os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
        raise AssertionError(f"{what}: mox.run exported no SavedModel to {export_dir}")
    try:
        loaded = tf.saved_model.load(export_dir)
    except Exception as exc:
        raise AssertionError(f"{what}: the exported SavedModel {export_dir} does not load: "
                             f"{type(exc).__name__}: {exc}") from exc
    for key in ("serving_default", "predict_object"):
        if key not in loaded.signatures:
            raise AssertionError(f"{what}: the SavedModel lacks the signature {key!r}; "
                                 f"it has {', '.join(loaded.signatures)}")
    outputs = loaded.signatures["serving_default"](images=tf.constant(images))
    logits, probabilities = outputs["logits"].numpy(), outputs["probabilities"].numpy()
    _check_finite(what, "the exported model's logits", logits)
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4):
        raise AssertionError(f"{what}: the exported model's probabilities do not sum to 1")
    return logits


def _eval_from_checkpoint(name, log_dir, num_classes, images, kwargs) -> np.ndarray:
    from mox_core.nets import get_model_fn

    tf = _tf()
    tf1 = tf.compat.v1
    with tf.Graph().as_default():
        network_fn = get_model_fn(name, ModeKeys.EVAL, num_classes, preprocess_fn=None, **kwargs)
        logits, _ = network_fn(tf.constant(images))
        saver = tf1.train.Saver(tf1.global_variables())
        with tf1.Session() as session:
            saver.restore(session, tf1.train.latest_checkpoint(log_dir))
            return session.run(logits)


def _randomized_values(seed: int = 0) -> dict[str, np.ndarray]:
    """Initial values of the current graph's variables, batch-norm statistics randomized.

    Freshly initialized batch norms (gamma 1, beta 0, mean 0, variance 1) treat every channel
    alike and would hide a wrong channel axis; random ones do not.
    """
    tf1 = _tf().compat.v1
    rng = np.random.default_rng(seed)
    variables = tf1.global_variables()
    values = dict(zip([v.op.name for v in variables], run_graph(variables)))
    for key, value in values.items():
        kind = key.rsplit("/", 1)[-1]
        if kind in ("gamma", "moving_variance"):
            values[key] = rng.uniform(0.5, 1.5, value.shape).astype(value.dtype)
        elif kind in ("beta", "moving_mean"):
            values[key] = rng.normal(0.0, 0.2, value.shape).astype(value.dtype)
    return values


def check_data_formats(name: str, *, num_classes: int = 5, image_size: int | None = None,
                       batch: int = 2, run_mode: str = ModeKeys.EVAL, rtol: float = 1e-4,
                       atol: float = 1e-4, **kwargs: Any) -> np.ndarray:
    """Check that ``data_format='NCHW'`` computes the NHWC logits with the same weights.

    Both graphs get identical variable values (batch-norm statistics randomized, so a wrong
    channel axis shows); the logits must agree within ``rtol``/``atol``. Returns them.
    """
    tf = _tf()
    tf1 = tf.compat.v1
    what = _describe_network(name)
    results = {}
    values = None
    for data_format in ("NHWC", "NCHW"):
        with tf.Graph().as_default():
            logits, _ = build_network(name, run_mode, num_classes, image_size, batch,
                                      data_format=data_format, **kwargs)
            if values is None:
                values = _randomized_values()
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


# --------------------------------------------------------------------------- preprocessing


def check_preprocessing(
    name: str,
    *,
    output_size: int | Sequence[int] = 24,
    input_shape: Sequence[int] = (40, 36, 3),
    input_dtype: str = "uint8",
    expected_channels: int | None = None,
    expected_dtype: str = "float32",
    modes: Iterable[str] = (ModeKeys.TRAIN, ModeKeys.EVAL),
    **kwargs: Any,
) -> dict[str, np.ndarray]:
    """Check the pipeline (or network) ``name`` in each run mode, inside a ``tf.data`` map.

    ``get_data_augmentation_fn(name, mode, h, w, **kwargs)`` is applied to random images of
    ``input_shape`` / ``input_dtype`` as the datasets apply it (``Dataset.map``); the output
    must be ``[h, w, expected_channels]`` (default: the input's channels), statically where
    known and in value, of ``expected_dtype``, and finite. Returns ``{mode: output}``.
    """
    from mox_core.preprocessing import get_data_augmentation_fn

    tf = _tf()
    tf1 = tf.compat.v1
    height, width = (output_size, output_size) if isinstance(output_size, int) else output_size
    channels = expected_channels or input_shape[-1]
    expected = (height, width, channels)
    rng = np.random.default_rng(0)
    if np.dtype(input_dtype) == np.uint8:
        image = rng.integers(0, 256, size=tuple(input_shape), dtype=np.uint8)
    else:
        image = (rng.random(tuple(input_shape)) * 255).astype(input_dtype)
    outputs = {}
    for mode in modes:
        what = f"preprocessing {name!r} in {mode} mode"
        pipelines = plugins.registry("preprocessing")
        if name in pipelines:
            what += f" (distribution {pipelines.get(name).distribution!r})"
        with tf.Graph().as_default():
            tf1.set_random_seed(0)
            fn = get_data_augmentation_fn(name, mode, height, width, **kwargs)
            dataset = tf.data.Dataset.from_tensors(image).map(fn)
            spec = dataset.element_spec
            if not isinstance(spec, tf.TensorSpec):
                raise AssertionError(f"{what}: must return one image tensor, got {spec}")
            static = spec.shape.as_list()
            if len(static) != 3 or any(d not in (None, e) for d, e in zip(static, expected)):
                raise AssertionError(f"{what}: output has static shape {spec.shape}, expected "
                                     f"{list(expected)}")
            if spec.dtype.name != expected_dtype:
                raise AssertionError(f"{what}: output dtype is {spec.dtype.name}, expected "
                                     f"{expected_dtype}")
            element = tf1.data.make_one_shot_iterator(dataset).get_next()
            value = run_graph(element)
        if value.shape != expected:
            raise AssertionError(f"{what}: output has shape {value.shape}, expected {expected}")
        _check_finite(what, "output values", value)
        outputs[mode] = value
    return outputs


# --------------------------------------------------------------------------- optimizers


def check_optimizer(name: str, learning_rate: float = 0.1, *args: Any, steps: int = 1,
                    wrapped: str = "sgd", **kwargs: Any) -> np.ndarray:
    """Check that the optimizer (or optimizer wrapper) ``name`` builds and updates variables.

    ``get_optimizer_fn(name, learning_rate, None, *args, **kwargs)`` (a wrapper:
    ``get_optimizer_wrapper_fn(name, get_optimizer_fn(wrapped, learning_rate), **kwargs)``)
    must create a ``tf.compat.v1.train.Optimizer`` whose ``minimize`` of ``sum(w ** 2)`` for
    ``steps`` steps changes ``w``, keeps it finite and lowers the loss. Returns the final ``w``.
    """
    from mox_core.optimizer import get_optimizer_fn, get_optimizer_wrapper_fn

    tf = _tf()
    tf1 = tf.compat.v1
    record = plugins.registry("optimizers").get(name)
    kind = "optimizer wrapper" if record.wrapper else "optimizer"
    what = f"{kind} {name!r} (distribution {record.distribution!r})"
    if record.wrapper:
        optimizer_fn = get_optimizer_wrapper_fn(name, get_optimizer_fn(wrapped, learning_rate),
                                                **kwargs)
    else:
        optimizer_fn = get_optimizer_fn(name, learning_rate, None, *args, **kwargs)
    start = np.array([1.0, -2.0, 0.5], np.float32)
    with tf.Graph().as_default():
        weights = tf1.get_variable("w", initializer=start)
        loss = tf.reduce_sum(tf.square(weights))
        optimizer = optimizer_fn()
        if not isinstance(optimizer, tf1.train.Optimizer):
            raise AssertionError(f"{what}: its factory returned {type(optimizer).__name__}, "
                                 f"expected a tf.compat.v1.train.Optimizer")
        global_step = tf1.train.get_or_create_global_step()
        train_op = optimizer.minimize(loss, global_step=global_step)
        with tf1.Session() as session:
            session.run([tf1.global_variables_initializer(), tf1.local_variables_initializer()])
            before = session.run(loss)
            for _ in range(steps):
                session.run(train_op)
            after, final = session.run([loss, weights])
    _check_finite(what, "updated variables", final)
    if np.array_equal(final, start):
        raise AssertionError(f"{what}: {steps} step(s) of minimize left the variable unchanged")
    if not after < before:
        raise AssertionError(f"{what}: {steps} step(s) of minimize on sum(w ** 2) did not lower "
                             f"the loss ({before:.4g} -> {after:.4g}); is the update's sign or "
                             f"the learning rate right?")
    return final
