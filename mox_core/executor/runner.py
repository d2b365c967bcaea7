"""``mox.run``: TRAIN, EVAL, PREDICT and EXPORT from ``input_fn`` / ``model_fn`` / ``optimizer_fn``.

Each run builds its own ``tf.Graph`` in ``tf.compat.v1`` graph mode and composes TensorFlow's
own parts: ``tf.data`` (or queue batching) for input, ``MonitoredSession`` with
``ChiefSessionCreator`` for session set-up, resume and the stop protocol, ``Saver`` and
``CheckpointSaverHook`` for checkpoints, ``SummarySaverHook`` for TensorBoard, and
``saved_model.Builder`` for the export. Everything a user can get wrong is checked before the
session starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.python.training import training_util

from mox_core.constants import ExportKeys, ModeKeys
from mox_core.datasets.pipeline import naming_bad_images
from mox_core.executor import checkpoints, distributed
from mox_core.executor.cluster import Cluster, current_cluster
from mox_core.executor.export import export_dir_for, write_saved_model
from mox_core.executor.hooks import AggregativeSessionRunHook
from mox_core.executor.inputs import Inputs, build_inputs, call_with_mode
from mox_core.executor.session_loop import HookedSession
from mox_core.executor.specs import ModelSpec
from mox_core.executor.towers import Tower, VariableSharing, tower_context
from mox_core.flags import get_flag

_UNSET = object()
DEFAULT_SAVE_MODEL_SECS = 600
_RUN_MODES = (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT, ModeKeys.EXPORT)
_VARIABLE_OPS = frozenset({"Variable", "VariableV2", "VarHandleOp", "AutoReloadVariable"})


@dataclasses.dataclass
class _Config:
    input_fn: Callable | None
    output_fn: Callable | None
    model_fn: Callable
    optimizer_fn: Any
    mode: str
    inter_mode: str | None
    batch_size: int | None
    auto_batch: bool
    log_dir: str | None
    max_steps: int
    checkpoint_path: str | None
    log_every_n_steps: int
    output_every_n_steps: int
    save_summary_steps: int
    save_model_secs: int | None
    save_model_steps: int | None
    export_model: Any
    fetch_strategy_fn: Callable | None
    towers: _Towers = None  # type: ignore[assignment]


@dataclasses.dataclass
class _Towers:
    devices: list[str | None]
    parameter_device: str | None
    cpu_devices: int  # logical CPU devices the session must create

    @property
    def count(self) -> int:
        return len(self.devices)


def run(input_fn=None, output_fn=None, model_fn=None, optimizer_fn=None, run_mode="invalid",
        inter_mode=None, batch_size=None, auto_batch=True, log_dir=None, max_number_of_steps=0,
        checkpoint_path=None, log_every_n_steps=10, output_every_n_steps=0,
        save_summary_steps=100, save_model_secs=_UNSET, export_model=False,
        fetch_strategy_fn=None, save_model_steps=_UNSET):
    """Run ``model_fn`` on ``input_fn``'s data in ``run_mode`` (see the module docs and spec).

    Returns, for EVAL, the mean of each ``log_info`` metric over the data; for TRAIN, the
    metrics of the last logged step; for EXPORT, the export folder; for PREDICT, ``None``.
    """
    config = _check_arguments(**locals())
    ensure_info_logging()
    if config.mode == ModeKeys.TRAIN:
        cluster = current_cluster()
        if cluster is not None and cluster.job_name == "ps":
            distributed.serve_forever(cluster)  # a parameter server serves until killed
        return _train(config, cluster)
    if config.mode == ModeKeys.EVAL:
        return _evaluate(config)
    if config.mode == ModeKeys.PREDICT:
        return _predict(config)
    return _export_from(config, checkpoints.resolve_checkpoint(
        config.checkpoint_path or config.log_dir, "checkpoint_path"))


# --------------------------------------------------------------------------- checking


def _positive_int(name: str, value: Any, allow_zero: bool = True) -> int:
    # A whole float (30.0) is the count a Python 2 script meant with `/`: take it as that int.
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0 or (
        value == 0 and not allow_zero
    ):
        floor = 0 if allow_zero else 1
        raise ValueError(f"mox.run {name} must be an int >= {floor}, got {value!r}")
    return int(value)


def _check_arguments(input_fn, output_fn, model_fn, optimizer_fn, run_mode, inter_mode,
                     batch_size, auto_batch, log_dir, max_number_of_steps, checkpoint_path,
                     log_every_n_steps, output_every_n_steps, save_summary_steps,
                     save_model_secs, export_model, fetch_strategy_fn, save_model_steps):
    if run_mode not in _RUN_MODES:
        raise ValueError(f"mox.run run_mode must be one of {', '.join(_RUN_MODES)} (see "
                         f"mox.ModeKeys), got {run_mode!r}")
    if inter_mode is not None and (inter_mode not in (ModeKeys.EVAL, ModeKeys.PREDICT,
                                                      ModeKeys.TRAIN) or run_mode != ModeKeys.TRAIN):
        raise ValueError(f"mox.run inter_mode must be None or a mode other than EXPORT, and only "
                         f"with run_mode TRAIN; got inter_mode={inter_mode!r} with "
                         f"run_mode={run_mode!r}")
    if not callable(model_fn):
        raise ValueError(f"mox.run model_fn must be a function (inputs, mode) -> ModelSpec, "
                         f"got {model_fn!r}")
    if input_fn is not None and not callable(input_fn):
        raise ValueError(f"mox.run input_fn must be a function (mode) -> inputs, got "
                         f"{input_fn!r}")
    if input_fn is None:
        raise ValueError("mox.run needs input_fn (a function (mode) -> tensors or a "
                         "tf.data.Dataset)")
    if batch_size is not None:
        batch_size = _positive_int("batch_size", batch_size, allow_zero=False)
    else:
        # MoXing: no batch_size means input_fn returns batches already (its getting-started and
        # flowers tutorials omit it); sample/sec then counts the real batch dimension.
        auto_batch = False
    max_steps = _positive_int("max_number_of_steps", max_number_of_steps)
    log_every = _positive_int("log_every_n_steps", log_every_n_steps, allow_zero=False)
    output_every = _positive_int("output_every_n_steps", output_every_n_steps)
    summary_steps = _positive_int("save_summary_steps", save_summary_steps)
    secs = None if save_model_secs is _UNSET or save_model_secs is None else _positive_int(
        "save_model_secs", save_model_secs)
    steps = None if save_model_steps is _UNSET or save_model_steps is None else _positive_int(
        "save_model_steps", save_model_steps)
    if secs is None and steps is None:
        secs = DEFAULT_SAVE_MODEL_SECS
    elif secs is not None and steps is not None:
        steps = None  # MoXing: save_model_secs wins when both are given
    if fetch_strategy_fn is not None and not callable(fetch_strategy_fn):
        raise ValueError(f"mox.run fetch_strategy_fn must be a function (local_step) -> bool, "
                         f"got {fetch_strategy_fn!r}")
    if export_model not in (False, None, ExportKeys.TF_SERVING):
        raise ValueError(f"mox.run export_model must be False or mox.ExportKeys.TF_SERVING, "
                         f"got {export_model!r}")
    if run_mode == ModeKeys.TRAIN:
        _check_optimizer_fn(optimizer_fn)
    if run_mode == ModeKeys.PREDICT and not callable(output_fn):
        raise ValueError("mox.run in PREDICT mode needs output_fn(outputs), the function that "
                         f"receives the predictions; got output_fn={output_fn!r}")
    if run_mode in (ModeKeys.EVAL, ModeKeys.PREDICT):
        checkpoint_path = checkpoints.resolve_checkpoint(checkpoint_path)
    if (export_model or run_mode == ModeKeys.EXPORT) and not log_dir:
        raise ValueError("mox.run needs log_dir to export the model into")
    if log_dir:
        _check_writable(log_dir)
    return _Config(input_fn, output_fn, model_fn, optimizer_fn, run_mode, inter_mode,
                   batch_size, bool(auto_batch), log_dir, max_steps, checkpoint_path, log_every,
                   output_every, summary_steps, secs, steps, export_model, fetch_strategy_fn,
                   _towers())


def _check_optimizer_fn(optimizer_fn) -> None:
    functions = optimizer_fn if isinstance(optimizer_fn, (list, tuple)) else [optimizer_fn]
    if optimizer_fn is None or not functions:
        raise ValueError("mox.run in TRAIN mode needs optimizer_fn, a function returning an "
                         "optimizer, e.g. mox.get_optimizer_fn('sgd', learning_rate=0.01)")
    for function in functions:
        if isinstance(function, tf.train.Optimizer):
            raise TypeError(
                f"mox.run optimizer_fn must be a function that returns an optimizer, not a "
                f"{type(function).__name__} instance; pass lambda: opt, or "
                f"mox.get_optimizer_fn(name, learning_rate, ...)"
            )
        if not callable(function):
            raise TypeError(f"mox.run optimizer_fn must be callable, got {function!r}")


def _check_writable(log_dir: str) -> None:
    try:
        tf.io.gfile.makedirs(log_dir)
        probe = os.path.join(log_dir, f".mox-write-test-{uuid.uuid4().hex}")
        with tf.io.gfile.GFile(probe, "w") as handle:
            handle.write("")
        tf.io.gfile.remove(probe)
    except (tf.errors.OpError, OSError) as exc:
        raise ValueError(f"mox.run log_dir {log_dir!r} is not writable: {exc}") from None


def _towers() -> _Towers:
    count = max(1, int(get_flag("num_gpus")))
    if count == 1:
        return _Towers([None], None, 1)
    import tensorflow as tf2

    gpus = tf2.config.list_physical_devices("GPU")
    if get_flag("clone_on_cpu") or not gpus:
        devices = [f"/device:CPU:{index}" for index in range(count)]
        return _Towers(devices, "/device:CPU:0", count)
    if len(gpus) < count:
        raise ValueError(f"flag num_gpus is {count} but only {len(gpus)} GPU(s) are visible; "
                         f"lower num_gpus or set clone_on_cpu")
    devices = [f"/device:GPU:{index}" for index in range(count)]
    parameter = "/device:GPU:0" if get_flag("local_parameter_device") == "gpu" else "/device:CPU:0"
    return _Towers(devices, parameter, 1)


def ensure_info_logging() -> None:
    """Show mox's INFO lines unless the user chose a level for TensorFlow's logger."""
    logger = tf.get_logger()
    if logger.level == 0:
        logger.setLevel(tf.logging.INFO)


def _session_config(towers: _Towers) -> tf.ConfigProto:
    config = tf.ConfigProto(allow_soft_placement=True)
    if towers.cpu_devices > 1:
        config.device_count["CPU"] = towers.cpu_devices
    if get_flag("num_inter_threads"):
        config.inter_op_parallelism_threads = get_flag("num_inter_threads")
    if get_flag("num_intra_threads"):
        config.intra_op_parallelism_threads = get_flag("num_intra_threads")
    return config


# --------------------------------------------------------------------------- building


@dataclasses.dataclass
class _Model:
    inputs: Inputs
    specs: list[ModelSpec]


def _device_function(device: str | None, parameter_device: str | None):
    if device is None:
        return None

    def place(op):
        return parameter_device if op.type in _VARIABLE_OPS else device

    return place


def _build_model(config: _Config, mode: str, sharing: VariableSharing, reuse: bool = False,
                 name: str = "", reinitializable: bool = False) -> _Model:
    """Call ``model_fn`` once per tower; ``sharing`` spans every call made in one graph."""
    towers = config.towers
    inputs = build_inputs(config.input_fn, mode, towers.count, config.batch_size,
                          config.auto_batch, reinitializable)
    specs = []
    for index, device in enumerate(towers.devices):
        scope = "/".join(p for p in (name, f"tower_{index}" if towers.count > 1 else "") if p)
        share = reuse or index > 0
        before = set(tf.global_variables())
        with contextlib.ExitStack() as stack:
            if scope:
                stack.enter_context(tf.name_scope(scope))
            if share:
                stack.enter_context(tf.variable_scope(tf.get_variable_scope(), reuse=True))
            function = _device_function(device, towers.parameter_device)
            if function is not None:
                stack.enter_context(tf.device(function))
            tower = Tower(index, towers.count, scope + "/" if scope else "")
            stack.enter_context(tower_context(tower))
            stack.enter_context(sharing.call(tower))
            spec = call_with_mode(config.model_fn, "model_fn", list(inputs.per_tower[index]),
                                  mode)
        if not isinstance(spec, ModelSpec):
            raise TypeError(f"model_fn must return a mox.ModelSpec, got "
                            f"{type(spec).__name__} (in {mode} mode)")
        spec.check(mode)
        created = [v.op.name for v in set(tf.global_variables()) - before]
        if share and created:
            raise ValueError(
                f"model_fn created new variables when called again for another device or for "
                f"inter_mode: {', '.join(sorted(created)[:5])}. Every call must create the same "
                f"variables under the same names (tf.get_variable in a fixed tf.variable_scope, "
                f"or layers and tf.Variable objects named the same way each call)"
            )
        specs.append(spec)
    return _Model(inputs, specs)


def _log_tensors(specs: list[ModelSpec]) -> dict[str, tf.Tensor]:
    first = specs[0].log_info
    if len(specs) == 1 or get_flag("log_first_clone"):
        return dict(first)
    with tf.name_scope("log_info_mean"):
        return {name: tf.reduce_mean(tf.stack([tf.cast(s.log_info[name], tf.float32)
                                               for s in specs]))
                for name in first}


def _trainable_variables(scopes: list[str] | None) -> list[tf.Variable]:
    variables = tf.trainable_variables()
    if scopes is not None:
        variables = [v for v in variables
                     if any(v.op.name == s or v.op.name.startswith(s.rstrip("/") + "/")
                            for s in scopes)]
    names = checkpoints.select([v.op.name for v in variables],
                               get_flag("trainable_include_patterns"),
                               get_flag("trainable_exclude_patterns"),
                               "trainable_include_patterns", "trainable_exclude_patterns")
    chosen = set(names)
    return [v for v in variables if v.op.name in chosen]


def _average_gradients(tower_grads: list[list[tuple]]) -> list[tuple]:
    if len(tower_grads) == 1:
        return [(g, v) for g, v in tower_grads[0] if g is not None]
    averaged = []
    for pairs in zip(*tower_grads):
        grads = [g for g, _ in pairs if g is not None]
        if not grads:
            continue
        variable = pairs[0][1]
        if isinstance(grads[0], tf.IndexedSlices):
            grads = [tf.convert_to_tensor(g) for g in grads]
        averaged.append((tf.add_n(grads) / len(grads), variable))
    return averaged


def _train_op(config: _Config, specs: list[ModelSpec], global_step,
              sync: distributed.SyncReplicas | None = None) -> tf.Tensor:
    """One training step: every loss updates its variables, then the global step advances
    (through ``sync`` in synchronous distributed training).

    Returns the global step's value before the increment (what the step is logged as).
    """
    spec = specs[0]
    losses = spec.losses
    scopes = spec.scopes_per_loss()
    functions = (list(config.optimizer_fn) if isinstance(config.optimizer_fn, (list, tuple))
                 else [config.optimizer_fn] * len(losses))
    if len(functions) != len(losses):
        raise ValueError(f"mox.run got {len(functions)} optimizer functions for "
                         f"{len(losses)} losses; give one, or one per loss")
    loss_scale = float(get_flag("loss_scale"))
    updates = []
    for index, (function, loss_scopes) in enumerate(zip(functions, scopes)):
        optimizer = call_with_mode(function, "optimizer_fn")
        if not isinstance(optimizer, tf.train.Optimizer):
            raise TypeError(f"optimizer_fn must return a tf.compat.v1.train.Optimizer, got "
                            f"{type(optimizer).__name__}")
        variables = _trainable_variables(loss_scopes)
        if not variables:
            raise ValueError(f"loss {index} has no trainable variable to update (var_scopes "
                             f"{loss_scopes!r}, trainable patterns flags)")
        tower_grads = []
        for tower_index, tower_spec in enumerate(specs):
            device = config.towers.devices[tower_index]
            with tf.device(device) if device else contextlib.nullcontext():
                loss = tower_spec.losses[index]
                scaled = loss * loss_scale if loss_scale != 1.0 else loss
                grads = optimizer.compute_gradients(scaled, var_list=variables)
                if loss_scale != 1.0:
                    grads = [(g / loss_scale if g is not None else None, v) for g, v in grads]
                tower_grads.append(grads)
        grads_and_vars = _average_gradients(tower_grads)
        if not grads_and_vars:
            raise ValueError(f"loss {index} does not depend on any of its variables "
                             f"({', '.join(v.op.name for v in variables[:5])})")
        updates.append((optimizer, grads_and_vars))
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS,
                                   scope="tower_0/" if len(specs) > 1 else None)
    if sync is not None:
        return sync.train_step(updates, update_ops)
    applies = [optimizer.apply_gradients(grads_and_vars) for optimizer, grads_and_vars in updates]
    # The global-step read that TensorFlow's step hooks fetch with each step (summaries,
    # checkpoints) happens before the increment, as tf.estimator orders it; unordered, a hook
    # reads the old or the new value by chance and its every-n steps shift by one at random.
    read = training_util._get_or_create_global_step_read()
    with tf.control_dependencies(applies + update_ops + [read]):
        new_step = global_step.assign_add(1)
    return tf.identity(new_step - 1, name="mox_step")


# --------------------------------------------------------------------------- session hooks


class _StepLogger(tf.train.SessionRunHook):
    """Logs MoXing's line every n local steps:
    ``step: 10(global step: 10)\\tsample/sec: 42.087\\tloss: 3.451``."""

    def __init__(self, step_value, log_tensors, every_n, batch_size, fetch_strategy_fn=None):
        self._step_value = step_value
        self._log_tensors = log_tensors
        self._every_n = every_n
        self._batch_size = batch_size
        self._fixed_batch = isinstance(batch_size, int)
        self._strategy = fetch_strategy_fn
        self.last_values: dict[str, float] = {}

    def begin(self):
        self._local_step = 0
        self._samples = 0
        self._since = None

    def _wanted(self) -> bool:
        if self._strategy is not None:
            return bool(self._strategy(self._local_step))
        return self._local_step % self._every_n == 0

    def before_run(self, run_context):
        if self._since is None:
            self._since = time.perf_counter()
        fetches = {}
        if self._wanted():
            fetches = {"step": self._step_value, "log": self._log_tensors}
        if not self._fixed_batch:
            fetches["batch"] = self._batch_size
        return tf.train.SessionRunArgs(fetches) if fetches else None

    def after_run(self, run_context, run_values):
        results = run_values.results or {}
        self._samples += self._batch_size if self._fixed_batch else int(results["batch"])
        if "step" in results and results["step"] >= 0:  # -1: a stop token, no step was made
            now = time.perf_counter()
            rate = self._samples / max(now - self._since, 1e-9)
            self.last_values = {k: float(np.mean(v)) for k, v in results["log"].items()}
            tf.logging.info("%s", _format_line(self._local_step, int(results["step"]), rate,
                                               self.last_values))
            self._samples = 0
            self._since = now
        self._local_step += 1


def _format_line(step: int, global_step: int, rate: float, values: dict[str, float]) -> str:
    parts = [f"step: {step}(global step: {global_step})", f"sample/sec: {rate:.3f}"]
    parts += [f"{name}: {value:.3f}" for name, value in values.items()]
    return "\t".join(parts)


def summary_tag(name: str) -> str:
    """The TensorBoard tag of a ``log_info`` name, the same in training and in EVAL, so the eval
    run's point lands in the training curve's chart."""
    return name.replace(" ", "_")


def _summary_op(log_tensors: dict[str, tf.Tensor]):
    """One ``Summary`` of every ``log_info`` scalar, tagged exactly :func:`summary_tag`.

    ``tf.summary.scalar`` would prefix its name scope and rename a tag whose op name is taken
    (``loss_1``), and then the eval metrics (tagged by name) would sit in charts of their own.
    A non-scalar value is averaged, as the log line does.
    """
    if not log_tensors:
        return None
    with tf.name_scope("mox_summaries"):
        values = [tf.reduce_mean(tf.cast(value, tf.float32)) for value in log_tensors.values()]
        return tf.raw_ops.ScalarSummary(tags=[summary_tag(name) for name in log_tensors],
                                        values=tf.stack(values))


class _SummarySaverHook(tf.train.SummarySaverHook):
    """TensorFlow's ``SummarySaverHook`` (every ``save_steps`` steps from the first), which also
    writes the run's last step, so a curve ends where training ended.

    The stock hook's last point can be ``save_steps - 1`` steps before the end. This one fetches
    the summary with every step -- a few scalars, in the run that already fetches the global step
    for the stock hook, so it costs next to nothing -- keeps the newest, and at ``end`` writes it
    at the final global step unless the cadence has just written that step. Keeping the newest
    rather than evaluating again at the end is what makes it work whatever ended the run:
    ``max_number_of_steps``, a hook's ``request_stop`` (early stopping, a divergence guard), or
    the input running out (the failed step made no update and no summary; the one before it is
    the last step). The points are the same values the cadence would have written there.

    It reads the stock hook's own state (``_timer``, ``_summary_writer``, ``_global_step_tensor``,
    set by ``begin``), which tf.compat.v1 has kept unchanged since TF 1.x, rather than keeping a
    second writer or a second copy of the cadence that could disagree with it.
    """

    def begin(self):
        super().begin()
        self._newest = None

    def before_run(self, run_context):
        request = super().before_run(run_context)
        return tf.train.SessionRunArgs({**request.fetches, "summary": self._get_summary_op()})

    def after_run(self, run_context, run_values):
        super().after_run(run_context, run_values)
        self._newest = run_values.results["summary"]

    def end(self, session=None):
        if self._newest is not None and session is not None and self._summary_writer:
            final = int(session.run(self._global_step_tensor))
            if final != self._timer.last_triggered_step():
                for summary in self._newest:
                    self._summary_writer.add_summary(summary, final)
        super().end(session)


def _user_hooks(specs: list[ModelSpec], inter: bool) -> list[AggregativeSessionRunHook]:
    return [hook for hook in specs[0].hooks if bool(hook.run_inter_mode()) == inter]


# --------------------------------------------------------------------------- TRAIN


def _train(config: _Config, cluster: Cluster | None = None):
    """Train in this process, alone or as one worker of ``cluster`` (worker 0 is the chief:
    it initializes or restores, and writes checkpoints, summaries and the export)."""
    log_dir = config.log_dir
    chief = cluster is None or cluster.is_chief
    resumed = tf.train.latest_checkpoint(log_dir) if log_dir and chief else None
    if resumed is not None and config.max_steps and cluster is None:
        step = checkpoints.checkpoint_global_step(resumed)
        if step is not None and step >= config.max_steps:
            tf.logging.info(
                "Nothing to train: the newest checkpoint in %s (%s) is at global step %d, which "
                "has reached max_number_of_steps=%d. Use a new log_dir or a larger "
                "max_number_of_steps to train more.", log_dir, os.path.basename(resumed), step,
                config.max_steps)
            if config.export_model:
                _export_from(config, resumed)
            return {}
    session_config = _session_config(config.towers)
    server = None
    if cluster is not None:
        session_config = distributed.worker_session_config(cluster, session_config)
        server = distributed.start_server(cluster, session_config)
    sync_mode = cluster is not None and cluster.num_workers > 1 and bool(
        get_flag("sync_replicas"))
    if cluster is not None:
        distributed.wait_for_peers(distributed.peers(cluster, sync_mode),
                                   distributed.startup_timeout(), f"worker {cluster.task_index}")
    graph = tf.Graph()
    with graph.as_default(), contextlib.ExitStack() as placement:
        if cluster is not None:
            placement.enter_context(tf.device(distributed.device_function(cluster)))
        global_step = tf.train.get_or_create_global_step()
        sharing = VariableSharing()
        model = _build_model(config, ModeKeys.TRAIN, sharing)
        sync = distributed.SyncReplicas(cluster, global_step) if sync_mode else None
        step_value = _train_op(config, model.specs, global_step, sync)
        hooks: list[tf.train.SessionRunHook] = list(_user_hooks(model.specs, inter=False))
        if sync is not None:
            hooks.append(sync.hook())
        inter_wanted = _user_hooks(model.specs, inter=True)
        if inter_wanted and config.inter_mode is None:
            names = ", ".join(type(h).__name__ for h in inter_wanted)
            raise ValueError(f"{names} evaluate on inter-mode data: pass inter_mode="
                             f"mox.ModeKeys.EVAL (and make input_fn serve that mode) to mox.run")
        local_init_op = None  # Scaffold's default
        if config.inter_mode is not None:
            inter = _build_model(config, config.inter_mode, sharing, reuse=True, name="inter",
                                 reinitializable=True)
            for hook in _user_hooks(inter.specs, inter=True):
                if inter.inputs.initializer is not None:
                    hook.inter_initializers = [inter.inputs.initializer]
                hooks.append(hook)
            if inter.inputs.initializer is not None:
                # Next to the default local init (local variables, lookup tables), never instead
                # of it: a LOCAL_INIT_OP collection entry would replace Scaffold's default op.
                local_init_op = tf.group(tf.train.Scaffold.default_local_init_op(),
                                         inter.inputs.initializer)
        log_tensors = _log_tensors(model.specs)
        logger = _StepLogger(step_value, log_tensors, config.log_every_n_steps,
                             model.inputs.batch_size, config.fetch_strategy_fn)
        hooks.append(logger)
        if config.max_steps and cluster is not None and not sync_mode:
            hooks.append(distributed.LocalStepLimit(config.max_steps))  # each counts its own
        # One process, or workers in step (sync), stop when the global step reaches
        # max_number_of_steps: in sync mode each global step is one local step of every
        # worker. The loop below reads it from each step's own result (cheaper than
        # StopAtStepHook's extra read).
        last_step = config.max_steps if cluster is None or sync_mode else 0
        saver = tf.train.Saver(max_to_keep=5, save_relative_paths=True)
        init_fn = None
        if resumed is None and config.checkpoint_path:
            warm = checkpoints.warm_start_saver(
                checkpoints.resolve_checkpoint(config.checkpoint_path),
                get_flag("checkpoint_include_patterns"), get_flag("checkpoint_exclude_patterns"))
            source = checkpoints.resolve_checkpoint(config.checkpoint_path)

            def init_fn(scaffold, session):
                warm.restore(session, source)
        scaffold = tf.train.Scaffold(saver=saver, init_fn=init_fn, local_init_op=local_init_op)
        if log_dir and chief:
            hooks.append(tf.train.CheckpointSaverHook(
                log_dir, save_secs=config.save_model_secs, save_steps=config.save_model_steps,
                scaffold=scaffold))
            summary = _summary_op(log_tensors)
            if config.save_summary_steps and summary is not None:
                hooks.append(_SummarySaverHook(
                    save_steps=config.save_summary_steps, output_dir=log_dir,
                    summary_op=summary))
        master = server.target if server is not None else ""
        if chief:
            creator = tf.train.ChiefSessionCreator(scaffold=scaffold, master=master,
                                                   checkpoint_dir=log_dir, config=session_config)
        else:
            creator = tf.train.WorkerSessionCreator(
                scaffold=scaffold, master=master, config=session_config,
                max_wait_secs=distributed.startup_timeout())
        if resumed:
            tf.logging.info("Resuming training from %s", resumed)
        # One process: the lighter HookedSession; workers keep MonitoredSession's recovery.
        loop = (HookedSession(creator, hooks) if cluster is None
                else tf.train.MonitoredSession(session_creator=creator, hooks=hooks))
        with naming_bad_images(graph), loop as session:
            while not session.should_stop():
                step = session.run(step_value)
                if step < 0 or (last_step and step + 1 >= last_step):
                    break  # (step < 0: the chief ended a synchronous run)
    if config.export_model and chief:
        _export_from(config, tf.train.latest_checkpoint(log_dir), model.inputs)
    return logger.last_values


# --------------------------------------------------------------------------- EVAL / PREDICT


def _restoring_session(config: _Config, hooks: list) -> tf.train.MonitoredSession:
    scaffold = tf.train.Scaffold(saver=tf.train.Saver())
    creator = tf.train.ChiefSessionCreator(
        scaffold=scaffold, checkpoint_filename_with_path=config.checkpoint_path,
        config=_session_config(config.towers))
    tf.logging.info("Restoring %s", config.checkpoint_path)
    return tf.train.MonitoredSession(session_creator=creator, hooks=hooks)


def _steps(config: _Config):
    step = 0
    while not config.max_steps or step < config.max_steps:
        yield step
        step += 1


def _evaluate(config: _Config) -> dict[str, float]:
    graph = tf.Graph()
    with graph.as_default():
        tf.train.get_or_create_global_step()
        model = _build_model(config, ModeKeys.EVAL, VariableSharing())
        log_tensors = _log_tensors(model.specs)
        first_tower_only = len(model.specs) > 1 and get_flag("log_first_clone")
        count = model.inputs.tower_batches[0] if first_tower_only else model.inputs.dynamic_batch
        fetches = {"log": log_tensors, "count": count}
        sums = {name: 0.0 for name in log_tensors}
        total = 0
        steps = 0
        with naming_bad_images(graph), \
                _restoring_session(config, _user_hooks(model.specs, inter=False)) as session:
            try:
                for step in _steps(config):
                    if session.should_stop():
                        break
                    values = session.run(fetches)
                    weight = int(values["count"])
                    for name, value in values["log"].items():
                        sums[name] += float(np.mean(value)) * weight
                    total += weight
                    steps += 1
                    if step % config.log_every_n_steps == 0:
                        tf.logging.info("%s", "\t".join(
                            [f"eval step: {step}"] +
                            [f"{k}: {float(np.mean(v)):.3f}" for k, v in values["log"].items()]))
            except tf.errors.OutOfRangeError:
                pass
    if total == 0:
        raise ValueError("EVAL read no data: input_fn's data ran out before the first step")
    means = {name: value / total for name, value in sums.items()}
    tf.logging.info("Evaluation of %s over %d samples (%d steps): %s", config.checkpoint_path,
                    total, steps, "\t".join(f"{k}: {v:.3f}" for k, v in means.items()))
    if config.log_dir:
        _write_eval_summary(config, means)
    return means


def _write_eval_summary(config: _Config, means: dict[str, float]) -> None:
    """Write the eval means to ``log_dir/eval`` at the evaluated checkpoint's global step: with
    the training tags, TensorBoard draws them as the run ``eval`` in the training charts, at the
    step where the training curve has its point for that checkpoint."""
    step = checkpoints.checkpoint_global_step(config.checkpoint_path) or 0
    summary = tf.Summary(value=[tf.Summary.Value(tag=summary_tag(k), simple_value=v)
                                for k, v in means.items()])
    with tf.Graph().as_default():  # FileWriter refuses to run eagerly
        writer = tf.summary.FileWriter(os.path.join(config.log_dir, "eval"))
        writer.add_summary(summary, step)
        writer.close()


def _predict(config: _Config) -> None:
    graph = tf.Graph()
    with graph.as_default():
        tf.train.get_or_create_global_step()
        model = _build_model(config, ModeKeys.PREDICT, VariableSharing())
        fetches = [spec.output_info for spec in model.specs]
        buffer: list[dict[str, Any]] = []
        calls = 0
        with naming_bad_images(graph), \
                _restoring_session(config, _user_hooks(model.specs, inter=False)) as session:
            try:
                for step in _steps(config):
                    if session.should_stop():
                        break
                    buffer.extend(session.run(fetches))
                    every = config.output_every_n_steps
                    if every and (step + 1) % every == 0:
                        call_with_mode(config.output_fn, "output_fn", buffer)
                        buffer, calls = [], calls + 1
            except tf.errors.OutOfRangeError:
                pass
    if buffer or calls == 0:
        call_with_mode(config.output_fn, "output_fn", buffer)


# --------------------------------------------------------------------------- EXPORT


def _export_from(config: _Config, checkpoint: str, trained_inputs: Inputs | None = None) -> str:
    """Build ``model_fn`` in EXPORT mode on placeholders, restore ``checkpoint``, write it."""
    if trained_inputs is None:
        with tf.Graph().as_default():
            single = dataclasses.replace(config, towers=_Towers([None], None, 1))
            trained_inputs = build_inputs(single.input_fn, ModeKeys.EXPORT, 1,
                                          single.batch_size, single.auto_batch)
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
        with tower_context(tower), VariableSharing().call(tower):
            spec = call_with_mode(config.model_fn, "model_fn", placeholders, ModeKeys.EXPORT)
        if not isinstance(spec, ModelSpec):
            raise TypeError(f"model_fn must return a mox.ModelSpec, got {type(spec).__name__} "
                            f"(in EXPORT mode)")
        spec.check(ModeKeys.EXPORT)
        export_dir = export_dir_for(config.log_dir, spec.export_spec.version)
        saver = tf.train.Saver()
        with tf.Session(config=_session_config(_Towers([None], None, 1))) as session:
            session.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            saver.restore(session, checkpoint)
            return write_saved_model(session, spec.export_spec, export_dir)

