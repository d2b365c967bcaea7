"""TensorFlow's own distributed runtime for ``mox.run``: servers, placement, start-up checks,
synchronous updates.

A ps task starts a ``tf.distribute.Server`` and serves until killed. A worker starts its own
server, builds the graph with its variables placed on the ps tasks (greedily by size, as TF's
former ``GreedyLoadBalancingStrategy`` did; on worker 0 when there is no ps job) and its
computation on itself, and trains through a ``MonitoredSession`` on its server. Before any of
that, ports and peers are checked with a bounded wait, so a port in use or an unreachable host
is a clear error instead of TensorFlow's endless "CreateSession still waiting". Each server
start logs one line saying that it is unauthenticated and listens on every interface (see
docs/distributed.md#security): TensorFlow itself never says so.

Synchronous mode (:class:`SyncReplicas`) averages exactly one gradient of every worker per
global step. TF's ``SyncReplicasOptimizer`` counts gradients and hands out tokens from one
shared queue, so a fast worker can take a slow one's token, contribute twice to a step and
leave the other behind, waiting forever once the fast one stops. Here every worker has its own
token queue: it cannot start step ``s + 1`` before step ``s`` is applied, and the chief applies
step ``s`` only when its accumulators hold one gradient of each worker.
"""

from __future__ import annotations

import os
import socket
import time

import tensorflow.compat.v1 as tf

from mox_core.executor.cluster import Cluster
from mox_core.executor.towers import VARIABLE_OPS
from mox_core.launch import LAUNCH_NETWORK_VARIABLE

#: Seconds a process waits for the other tasks of its cluster before giving up.
DEFAULT_STARTUP_TIMEOUT = 120.0


def startup_timeout() -> float:
    """``MOX_STARTUP_TIMEOUT`` seconds (default 120) to wait for the cluster's peers."""
    text = os.environ.get("MOX_STARTUP_TIMEOUT", "")
    try:
        return float(text) if text else DEFAULT_STARTUP_TIMEOUT
    except ValueError:
        raise ValueError(f"MOX_STARTUP_TIMEOUT must be a number of seconds, got {text!r}") \
            from None


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def check_port_free(cluster: Cluster) -> None:
    """``ValueError`` when this task's port cannot be bound (another process holds it)."""
    host, port = _split(cluster.address)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("" if family == socket.AF_INET else "::", port))
        except OSError as exc:
            raise ValueError(
                f"{cluster.job_name} task {cluster.task_index} cannot listen on "
                f"{cluster.address}: port {port} is in use or not allowed ({exc.strerror})"
            ) from None


def wait_for_peers(addresses: list[str], timeout: float, what: str) -> None:
    """Wait until every address accepts TCP connections, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    waiting = list(addresses)
    while waiting:
        still = []
        for address in waiting:
            host, port = _split(address)
            try:
                with socket.create_connection((host, port), timeout=2.0):
                    pass
            except OSError:
                still.append(address)
        waiting = still
        if not waiting:
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"{what}: {', '.join(waiting)} did not answer within {timeout:.0f} s; check that "
                f"those tasks are started, the host lists are the same on every task, and no "
                f"proxy (http_proxy) or firewall sits between them (MOX_STARTUP_TIMEOUT sets "
                f"the wait)"
            )
        time.sleep(0.5)


def exposure_notice(cluster: Cluster) -> str:
    """The line each task logs when its server starts.

    TensorFlow's gRPC server has no authentication and executes whatever graph a client sends
    (reading and writing files as this user); it binds ``0.0.0.0:PORT`` whatever host the
    cluster spec names. Nothing in TensorFlow says so at run time, so every task says it once.
    Tasks that ``mox launch`` put in a private network namespace say where they listen instead.
    """
    what = (f"mox: the {cluster.job_name} task {cluster.task_index} serves TensorFlow's "
            f"unauthenticated gRPC runtime")
    if os.environ.get(LAUNCH_NETWORK_VARIABLE) == "private":
        return (f"{what} on port {cluster.port} of the private network namespace mox launch "
                f"runs it in (loopback only, unreachable from other hosts)")
    return (f"{what} on every interface, port {cluster.port}; run clusters only on a trusted, "
            f"firewalled network (docs/distributed.md#security)")


def start_server(cluster: Cluster, config: tf.ConfigProto | None = None) -> tf.distribute.Server:
    check_port_free(cluster)
    spec = tf.train.ClusterSpec(cluster.spec())
    server = tf.distribute.Server(spec, job_name=cluster.job_name,
                                  task_index=cluster.task_index, config=config, start=True)
    tf.logging.info("%s task %d serving at %s (cluster: %s)", cluster.job_name,
                    cluster.task_index, cluster.address, cluster.spec())
    # a warning, not info: a ps task logs before mox raises the verbosity, and this must show
    tf.logging.warning("%s", exposure_notice(cluster))
    return server


def serve_forever(cluster: Cluster) -> None:
    """Run a parameter server: it serves the workers and never returns."""
    server = start_server(cluster)
    server.join()


def worker_session_config(cluster: Cluster, config: tf.ConfigProto) -> tf.ConfigProto:
    """Only talk to the ps tasks and ourselves (and worker 0 when it holds the parameters):
    a worker must not wait for its fellow workers to come up."""
    config.device_filters.append(f"/job:worker/task:{cluster.task_index}")
    if cluster.ps:
        config.device_filters.append("/job:ps")
    elif cluster.task_index != 0:
        config.device_filters.append("/job:worker/task:0")
    return config


class GreedyPlacement:
    """Places each variable on the ps task holding the fewest bytes so far."""

    def __init__(self, num_tasks: int) -> None:
        self.loads = [0] * num_tasks

    def __call__(self, op) -> int:
        task = min(range(len(self.loads)), key=self.loads.__getitem__)
        self.loads[task] += _variable_bytes(op)
        return task


def _variable_bytes(op) -> int:
    shape = op.get_attr("shape") if "shape" in op.node_def.attr else None
    dtype = op.get_attr("dtype") if "dtype" in op.node_def.attr else tf.float32
    if shape is None:
        return 0
    dims = tf.TensorShape(shape)
    if not dims.is_fully_defined():
        return 0
    return max(1, dims.num_elements()) * tf.as_dtype(dtype).size


def device_function(cluster: Cluster):
    """Variables on the ps tasks (greedy by size) or worker 0; everything else here."""
    worker = f"/job:worker/task:{cluster.task_index}"
    if cluster.ps:
        return tf.train.replica_device_setter(
            ps_tasks=len(cluster.ps), worker_device=worker, ps_device="/job:ps",
            cluster=tf.train.ClusterSpec(cluster.spec()),
            ps_strategy=GreedyPlacement(len(cluster.ps)))

    def place(op):
        if op.type in VARIABLE_OPS:
            return "/job:worker/task:0/device:CPU:0"
        return op.device or worker

    return place


class LocalStepLimit(tf.train.SessionRunHook):
    """Stops after ``steps`` steps of this worker, whatever the global step says."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.done = 0

    def after_run(self, run_context, run_values):
        self.done += 1
        if self.done >= self.steps:
            run_context.request_stop()


def peers(cluster: Cluster, sync: bool) -> list[str]:
    """The addresses this worker must reach before training: the ps tasks (or worker 0, which
    then holds the parameters) and, in synchronous mode, every other worker too, since no step
    can finish without each of them."""
    wanted = list(cluster.ps) or ([] if cluster.is_chief else [cluster.workers[0]])
    if sync:
        wanted += [address for index, address in enumerate(cluster.workers)
                   if index != cluster.task_index and address not in wanted]
    return wanted


class SyncReplicas:
    """Synchronous data-parallel updates across the workers of ``cluster``.

    Every worker pushes its gradients, tagged with the global step they were computed at, into
    one ``ConditionalAccumulator`` per variable (next to the variable). The chief then takes
    ``num_workers`` gradients from each accumulator (stale ones, tagged with an older step, are
    dropped by the accumulator), applies their mean with the user's optimizer, advances the
    global step and puts one token, the new global step, into each other worker's own queue.
    A worker waits for its token before its next step, so each step holds one gradient of
    every worker, and all workers see the same global step: stopping on it ends them together.
    When the chief stops early (a hook asked it to) it sends each worker a stop token (-1).
    """

    STOP = -1

    def __init__(self, cluster: Cluster, global_step) -> None:
        self.cluster = cluster
        self.global_step = global_step
        self.is_chief = cluster.is_chief
        self.accumulators: list = []
        with tf.device(f"/job:worker/task:{cluster.task_index}"):
            # Which global step this worker's next gradient belongs to (not saved, per worker).
            self.local_step = tf.Variable(
                global_step.read_value(), trainable=False, name="mox_sync_local_step",
                collections=[tf.GraphKeys.LOCAL_VARIABLES], dtype=global_step.dtype.base_dtype)
        with tf.device(global_step.device), tf.name_scope("mox_sync_tokens/"):
            self.queues = [
                tf.FIFOQueue(-1, global_step.dtype.base_dtype, shapes=[[]],
                             name=f"worker_{index}", shared_name=f"mox_sync_token_{index}")
                for index in range(cluster.num_workers)
            ]

    def train_step(self, updates, update_ops) -> tf.Tensor:
        """``updates``: ``[(optimizer, grads_and_vars), ...]``, one per loss. Returns the global
        step this worker's gradient went into (``-1`` when the chief has ended the run)."""
        pushes, taken = [], []
        before = tf.identity(self.local_step.read_value())
        with tf.control_dependencies(update_ops), tf.name_scope("mox_sync_push"):
            for loss_index, (_, grads_and_vars) in enumerate(updates):
                accumulated = []
                for grad, var in grads_and_vars:
                    if isinstance(grad, tf.IndexedSlices):
                        grad = tf.convert_to_tensor(grad)
                    with tf.device(var.device):
                        accumulator = tf.ConditionalAccumulator(
                            grad.dtype, shape=var.get_shape(),
                            shared_name=f"mox_sync/{loss_index}/{var.op.name}")
                        pushes.append(accumulator.apply_grad(grad, local_step=before))
                    self.accumulators.append((accumulator, var.device))
                    accumulated.append((accumulator, var))
                taken.append(accumulated)
        if not self.is_chief:
            with tf.device(self.global_step.device), tf.control_dependencies(pushes):
                token = self.queues[self.cluster.task_index].dequeue()
            with tf.control_dependencies([self.local_step.assign(token)]):
                return tf.where(token < 0, token, before, name="mox_step")
        applies = []
        with tf.control_dependencies(pushes):
            for (optimizer, _), accumulated in zip(updates, taken):
                averaged = []
                for accumulator, var in accumulated:
                    with tf.device(var.device):
                        averaged.append((accumulator.take_grad(self.cluster.num_workers), var))
                applies.append(optimizer.apply_gradients(averaged))
        with tf.control_dependencies(applies):
            new_step = self.global_step.assign_add(1)
        with tf.device(self.global_step.device):
            tokens = [queue.enqueue(new_step) for index, queue in enumerate(self.queues)
                      if index != self.cluster.task_index]
        with tf.control_dependencies([self.local_step.assign(new_step), *tokens]):
            return tf.identity(new_step - 1, name="mox_step")

    def hook(self) -> tf.train.SessionRunHook:
        return _SyncReplicasHook(self)


class _SyncReplicasHook(tf.train.SessionRunHook):
    """Session set-up and tear-down of :class:`SyncReplicas`.

    The chief (re)aligns the accumulators with the global step it initialized or restored (a
    restarted chief rolls the step back to its checkpoint). Another worker first empties its
    token queue of tokens left by an earlier life of itself, then takes its step from the
    global step. When the chief's session ends normally it sends every worker a stop token, so
    none waits for a step that will not come.
    """

    def __init__(self, sync: SyncReplicas) -> None:
        self.sync = sync

    def begin(self):
        sync = self.sync
        if sync.is_chief:
            resets = []
            for accumulator, device in sync.accumulators:
                with tf.device(device):
                    resets.append(accumulator.set_global_step(sync.global_step))
            self._start = tf.group(*resets)
            with tf.device(sync.global_step.device):
                self._stop = tf.group(*[
                    queue.enqueue(tf.constant(SyncReplicas.STOP, sync.global_step.dtype.base_dtype))
                    for index, queue in enumerate(sync.queues) if index != 0])
        else:
            queue = sync.queues[sync.cluster.task_index]
            with tf.device(sync.global_step.device):
                drained = queue.dequeue_up_to(queue.size())
            with tf.control_dependencies([drained]):
                self._start = sync.local_step.assign(sync.global_step.read_value())
            self._stop = None

    def after_create_session(self, session, coord):
        session.run(self._start)

    def end(self, session):
        if self._stop is not None:
            session.run(self._stop)
