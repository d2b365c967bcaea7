"""A run's configuration: ``mox.run``'s arguments and every run flag it reads, checked once.

:func:`build_config` is the only place in the executor that reads run flags (and the
``MOX_STARTUP_TIMEOUT`` variable): everything below it -- graph building, the session loop, the
hooks -- takes what it needs from the frozen :class:`RunConfig`, so a run cannot see a flag
change half-way, and a new setting is one field here, checked with the others before any graph
is built. Plugins receive it too (``mox_session_hooks(config)``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import tensorflow.compat.v1 as tf

from mox_core.constants import ExportKeys, ModeKeys
from mox_core.executor import checkpoints, distributed, precision
from mox_core.executor.cluster import Cluster, current_cluster
from mox_core.flags import get_flag
from mox_core.utils.checks import finite_number

#: the default of ``save_model_secs`` / ``save_model_steps`` (told apart from an explicit None)
UNSET: Any = object()
DEFAULT_SAVE_MODEL_SECS = 600
RUN_MODES = (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT, ModeKeys.EXPORT)


@dataclasses.dataclass(frozen=True)
class Towers:
    """Where the model's copies go: one device per tower (``None``: wherever TensorFlow puts
    it), the device holding the variables, and how many logical CPUs the session must create."""

    devices: tuple[str | None, ...]
    parameter_device: str | None
    cpu_devices: int

    @property
    def count(self) -> int:
        return len(self.devices)


#: one tower, placed by TensorFlow (a single device, and every EXPORT graph)
SINGLE_TOWER = Towers((None,), None, 1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything one ``mox.run`` does, decided before it builds a graph.

    ``mode``, ``log_dir``, ``max_steps`` (``max_number_of_steps``; 0: no limit), ``is_chief``
    and ``cluster`` are what session hooks usually look at; the rest is the executor's.
    """

    mode: str
    inter_mode: str | None
    input_fn: Callable
    output_fn: Callable | None
    model_fn: Callable
    optimizer_fn: Any
    batch_size: int | None
    auto_batch: bool
    log_dir: str | None
    max_steps: int
    #: TRAIN: the warm start (as given); EVAL / PREDICT: the checkpoint prefix it resolved to
    checkpoint_path: str | None
    log_every_n_steps: int
    output_every_n_steps: int
    save_summary_steps: int
    save_model_secs: int | None
    save_model_steps: int | None
    export_model: Any
    fetch_strategy_fn: Callable | None
    towers: Towers
    #: the distributed cluster this process is part of (TRAIN only); None for one process
    cluster: Cluster | None
    #: synchronous updates: flag sync_replicas, in a cluster of more than one worker
    sync_replicas: bool
    #: seconds to wait for the cluster's peers (MOX_STARTUP_TIMEOUT)
    startup_timeout: float
    num_inter_threads: int
    num_intra_threads: int
    log_first_clone: bool
    trainable_include_patterns: str
    trainable_exclude_patterns: str
    checkpoint_include_patterns: str
    checkpoint_exclude_patterns: str
    loss_scale: float
    #: flags mixed_precision / use_fp16 / xla, resolved for this machine's devices
    precision: precision.Precision
    #: flag seed (plus the task index of a cluster's worker): what :meth:`seeded` fixes;
    #: None: nothing is fixed
    seed: int | None

    @property
    def is_chief(self) -> bool:
        """Whether this process initializes or restores the model and writes checkpoints,
        summaries and the export: always for one process, worker 0 of a cluster."""
        return self.cluster is None or self.cluster.is_chief

    def session_config(self, towers: Towers | None = None) -> tf.ConfigProto:
        """A new ``ConfigProto`` for a session running ``towers`` (default: the run's)."""
        towers = towers or self.towers
        config = tf.ConfigProto(allow_soft_placement=True)
        if towers.cpu_devices > 1:
            config.device_count["CPU"] = towers.cpu_devices
        if self.num_inter_threads:
            config.inter_op_parallelism_threads = self.num_inter_threads
        if self.num_intra_threads:
            config.intra_op_parallelism_threads = self.num_intra_threads
        return self.precision.apply(config)

    @contextlib.contextmanager
    def seeded(self) -> Iterator[None]:
        """Within it, a run with a ``seed`` is reproducible: the default graph's seed (so every
        random op and every ``tf.data`` shuffle without its own seed gets a fixed one),
        Python's and NumPy's global generators are fixed, and TensorFlow's op determinism is on
        (``tf.data``'s parallel maps and interleaves keep their order), until it exits. Enter
        it after the run's graph is made the default; without a seed it does nothing."""
        if self.seed is None:
            yield
            return
        from tensorflow.python.framework import config as tf_config

        tf.set_random_seed(self.seed)
        random.seed(self.seed)
        np.random.seed(self.seed)
        was_deterministic = tf_config.is_op_determinism_enabled()
        tf_config.enable_op_determinism()
        try:
            yield
        finally:
            if not was_deterministic:
                tf_config.disable_op_determinism()


def build_config(*, input_fn, output_fn, model_fn, optimizer_fn, run_mode, inter_mode,
                 batch_size, auto_batch, log_dir, max_number_of_steps, checkpoint_path,
                 log_every_n_steps, output_every_n_steps, save_summary_steps, save_model_secs,
                 export_model, fetch_strategy_fn, save_model_steps) -> RunConfig:
    """Check ``mox.run``'s arguments, read the run flags, and freeze both into a RunConfig."""
    if run_mode not in RUN_MODES:
        raise ValueError(f"mox.run run_mode must be one of {', '.join(RUN_MODES)} (see "
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
    secs = None if save_model_secs is UNSET or save_model_secs is None else _positive_int(
        "save_model_secs", save_model_secs)
    steps = None if save_model_steps is UNSET or save_model_steps is None else _positive_int(
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
    # A cluster is a training matter: EVAL, PREDICT and EXPORT run in this process alone.
    cluster = _cluster_from_flags() if run_mode == ModeKeys.TRAIN else None
    towers = _towers()
    return RunConfig(
        mode=run_mode, inter_mode=inter_mode, input_fn=input_fn, output_fn=output_fn,
        model_fn=model_fn, optimizer_fn=optimizer_fn, batch_size=batch_size,
        auto_batch=bool(auto_batch), log_dir=log_dir, max_steps=max_steps,
        checkpoint_path=checkpoint_path, log_every_n_steps=log_every,
        output_every_n_steps=output_every, save_summary_steps=summary_steps,
        save_model_secs=secs, save_model_steps=steps, export_model=export_model,
        fetch_strategy_fn=fetch_strategy_fn,
        towers=towers,
        cluster=cluster,
        sync_replicas=(cluster is not None and cluster.num_workers > 1
                       and bool(get_flag("sync_replicas"))),
        startup_timeout=distributed.startup_timeout() if cluster is not None else 0.0,
        num_inter_threads=int(get_flag("num_inter_threads")),
        num_intra_threads=int(get_flag("num_intra_threads")),
        log_first_clone=bool(get_flag("log_first_clone")),
        trainable_include_patterns=get_flag("trainable_include_patterns"),
        trainable_exclude_patterns=get_flag("trainable_exclude_patterns"),
        checkpoint_include_patterns=get_flag("checkpoint_include_patterns"),
        checkpoint_exclude_patterns=get_flag("checkpoint_exclude_patterns"),
        loss_scale=finite_number("flag loss_scale (1 is off)", get_flag("loss_scale")),
        precision=precision.resolve(get_flag("mixed_precision"), bool(get_flag("use_fp16")),
                                    get_flag("xla"), _on_gpu(towers)),
        seed=_seed(cluster),
    )


def _on_gpu(towers: Towers) -> bool:
    """Whether the towers compute on GPUs: GPU towers, or one tower and a visible GPU."""
    if towers.count > 1:
        return any(device and "GPU" in device for device in towers.devices)
    if get_flag("clone_on_cpu"):
        return False
    import tensorflow as tf2

    return bool(tf2.config.list_physical_devices("GPU"))


def _seed(cluster: Cluster | None) -> int | None:
    """Flag ``seed``, plus the task index of a worker of ``cluster`` (each worker then reads
    its own order of the data); None when it is unset."""
    seed = get_flag("seed")
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"flag seed must be an int >= 0 (or unset), got {seed!r}")
    return seed + (cluster.task_index if cluster is not None and cluster.job_name == "worker"
                   else 0)


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


def _cluster_from_flags() -> Cluster | None:
    return current_cluster(ps_hosts=get_flag("ps_hosts"), worker_hosts=get_flag("worker_hosts"),
                           job_name=get_flag("job_name"), task_index=int(get_flag("task_index")))


def _towers() -> Towers:
    """One tower per device of flag ``num_gpus`` (CPUs standing in with ``clone_on_cpu`` or
    when no GPU is visible), variables on flag ``local_parameter_device``."""
    count = max(1, int(get_flag("num_gpus")))
    if count == 1:
        return SINGLE_TOWER
    import tensorflow as tf2

    gpus = tf2.config.list_physical_devices("GPU")
    if get_flag("clone_on_cpu") or not gpus:
        return Towers(tuple(f"/device:CPU:{index}" for index in range(count)), "/device:CPU:0",
                      count)
    if len(gpus) < count:
        raise ValueError(f"flag num_gpus is {count} but only {len(gpus)} GPU(s) are visible; "
                         f"lower num_gpus or set clone_on_cpu")
    parameter = "/device:GPU:0" if get_flag("local_parameter_device") == "gpu" else "/device:CPU:0"
    return Towers(tuple(f"/device:GPU:{index}" for index in range(count)), parameter, 1)
