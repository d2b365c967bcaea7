"""TensorFlow's own distributed runtime for ``mox.run``: servers, placement, start-up checks.

A ps task starts a ``tf.distribute.Server`` and serves until killed. A worker starts its own
server, builds the graph with its variables placed on the ps tasks (greedily by size, as TF's
former ``GreedyLoadBalancingStrategy`` did; on worker 0 when there is no ps job) and its
computation on itself, and trains through a ``MonitoredSession`` on its server. Before any of
that, ports and peers are checked with a bounded wait, so a port in use or an unreachable host
is a clear error instead of TensorFlow's endless "CreateSession still waiting".
"""

from __future__ import annotations

import os
import socket
import time

import tensorflow.compat.v1 as tf

from mox_core.executor.cluster import Cluster

#: Seconds a process waits for the other tasks of its cluster before giving up.
DEFAULT_STARTUP_TIMEOUT = 120.0
_VARIABLE_OPS = frozenset({"Variable", "VariableV2", "VarHandleOp", "AutoReloadVariable"})


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


def start_server(cluster: Cluster, config: tf.ConfigProto | None = None) -> tf.distribute.Server:
    check_port_free(cluster)
    spec = tf.train.ClusterSpec(cluster.spec())
    server = tf.distribute.Server(spec, job_name=cluster.job_name,
                                  task_index=cluster.task_index, config=config, start=True)
    tf.logging.info("%s task %d serving at %s (cluster: %s)", cluster.job_name,
                    cluster.task_index, cluster.address, cluster.spec())
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
        if op.type in _VARIABLE_OPS:
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
