"""Distributed training on TensorFlow's runtime: real ps and worker processes on loopback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import tensorflow.compat.v1 as tf

import mox_core as mox
from mox_core.executor import cluster as cluster_module

SCRIPT = Path(__file__).with_name("distributed_train_script.py")
pytestmark = pytest.mark.slow


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class Cluster:
    def __init__(self, tmp_path, num_ps=1, num_workers=2):
        ports = free_ports(num_ps + num_workers)
        self.ps = [f"127.0.0.1:{p}" for p in ports[:num_ps]]
        self.workers = [f"127.0.0.1:{p}" for p in ports[num_ps:]]
        self.log_dir = tmp_path / "logs"
        self.processes = []

    def start(self, job, index, *extra):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MOX_STARTUP_TIMEOUT="60")
        env.pop("http_proxy", None)
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT), f"--job_name={job}", f"--task_index={index}",
             f"--ps_hosts={','.join(self.ps)}", f"--worker_hosts={','.join(self.workers)}",
             f"--train_url={self.log_dir}", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.processes.append(process)
        return process

    def run(self, *extra):
        for index in range(len(self.ps)):
            self.start("ps", index)
        workers = [self.start("worker", i, *extra) for i in range(len(self.workers))]
        outputs = [w.communicate(timeout=240)[0] for w in workers]
        for worker, output in zip(workers, outputs):
            assert worker.returncode == 0, output[-3000:]
        return outputs

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def cluster(tmp_path):
    made = []

    def make(**kwargs):
        made.append(Cluster(tmp_path, **kwargs))
        return made[-1]

    yield make
    for c in made:
        c.stop()


def logged_steps(output):
    """(local, global) of each step line TensorFlow's handler printed (absl's handler, which
    tf.app.run installs on the root logger, prints every line a second time)."""
    return [tuple(map(int, m)) for m in
            re.findall(r"^INFO:tensorflow:step: (\d+)\(global step: (\d+)\)", output, re.M)]


def variable_devices(log_dir):
    text = (log_dir / "graph.pbtxt").read_text()
    nodes = re.findall(r'node \{\s+name: "([^"]+)"\s+op: "(VarHandleOp|VariableV2)"'
                       r'(?:.|\n)*?device: "([^"]*)"', text)
    return {name: device for name, _, device in nodes}


def test_async_workers_share_one_global_step_and_the_variables_live_on_the_ps(cluster):
    c = cluster()
    outputs = c.run("--steps=8", "--sync_replicas=false")
    steps = [logged_steps(output) for output in outputs]
    for worker_steps in steps:
        assert [local for local, _ in worker_steps] == list(range(8))  # both contributed
    global_steps = sorted(g for worker_steps in steps for _, g in worker_steps)
    assert global_steps == list(range(16))  # every update counted exactly once
    devices = variable_devices(c.log_dir)
    assert devices["hidden"].startswith("/job:ps/task:0")
    assert devices["global_step"].startswith("/job:ps/task:0")
    # the chief's checkpoint restores on one machine
    step = tf.train.load_checkpoint(str(c.log_dir)).get_tensor("global_step")
    assert 8 <= step <= 16
    result = mox.run(input_fn=lambda mode: tf.data.Dataset.from_tensor_slices(
        (tf.zeros([4, 8]), tf.zeros([4, 1]))), model_fn=_eval_model_fn,
        run_mode=mox.ModeKeys.EVAL, batch_size=4, checkpoint_path=str(c.log_dir))
    assert "loss" in result


def _eval_model_fn(inputs, mode):
    sys.path.insert(0, str(SCRIPT.parent))
    import distributed_train_script

    return distributed_train_script.model_fn(inputs, mode)


def test_sync_replicas_is_refused_with_a_clear_error_until_workers_can_be_kept_in_step(cluster):
    c = cluster(num_ps=1, num_workers=2)
    c.start("ps", 0)
    process = c.start("worker", 1, "--steps=1", "--sync_replicas=true")
    output = process.communicate(timeout=240)[0]
    assert process.returncode != 0
    assert "synchronous distributed training (flag sync_replicas=True) is not available" in output


def test_variables_spread_over_two_ps_tasks_by_size(cluster):
    c = cluster(num_ps=2, num_workers=1)
    c.run("--steps=2", "--sync_replicas=false")
    tasks = {device.split("/")[2] for device in variable_devices(c.log_dir).values()}
    assert tasks == {"task:0", "task:1"}


def test_a_worker_index_outside_the_host_list_is_an_error_at_start(tmp_path):
    c = Cluster(tmp_path, num_ps=1, num_workers=2)
    process = c.start("worker", 5)
    output = process.communicate(timeout=120)[0]
    assert process.returncode != 0
    assert "task_index 5 does not fit the 2 worker address(es)" in output


def test_a_port_in_use_is_an_error_not_a_hang(tmp_path):
    c = Cluster(tmp_path, num_ps=1, num_workers=1)
    host, port = c.workers[0].split(":")
    with socket.socket() as taken:
        taken.bind((host, int(port)))
        taken.listen()
        process = c.start("worker", 0)
        output = process.communicate(timeout=120)[0]
    assert process.returncode != 0
    assert f"cannot listen on {c.workers[0]}: port {port} is in use" in output


def test_an_unreachable_ps_is_an_error_after_the_startup_timeout(tmp_path, monkeypatch):
    c = Cluster(tmp_path, num_ps=1, num_workers=1)
    env_timeout = "3"
    monkeypatch.setenv("MOX_STARTUP_TIMEOUT", env_timeout)
    process = subprocess.run(
        [sys.executable, str(SCRIPT), "--job_name=worker", "--task_index=0",
         f"--ps_hosts={c.ps[0]}", f"--worker_hosts={c.workers[0]}", "--steps=1"],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, MOX_STARTUP_TIMEOUT=env_timeout))
    assert process.returncode != 0
    assert f"{c.ps[0]} did not answer within 3 s" in process.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"worker_hosts": "a:1,b"}, "flag worker_hosts: 'b' is not a host:port address"),
        ({"worker_hosts": "a:1,a:1", "job_name": "worker"}, "lists an address twice"),
        ({"worker_hosts": "a:1,b:2"}, "job_name is empty"),
        ({"worker_hosts": "a:1", "ps_hosts": "a:1", "job_name": "worker"},
         "a:1 is both a ps and a worker address"),
        ({"worker_hosts": "a:1,b:2", "job_name": "chief"}, "job_name must be 'ps' or 'worker'"),
    ],
)
def test_malformed_cluster_flags_are_clear_errors(flags, message):
    saved = {name: mox.get_flag(name) for name in ("worker_hosts", "ps_hosts", "job_name")}
    try:
        for name, value in flags.items():
            mox.set_flag(name, value)
        with pytest.raises(ValueError, match=re.escape(message)):
            cluster_module.current_cluster()
    finally:
        for name, value in saved.items():
            mox.set_flag(name, value)


def test_tf_config_and_modelarts_environments(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"chief": ["h0:1"], "worker": ["h1:1"], '
                                    '"ps": ["p:1"]}, "task": {"type": "worker", "index": 0}}')
    found = cluster_module.current_cluster()
    assert (found.workers, found.ps, found.job_name, found.task_index) == (
        ("h0:1", "h1:1"), ("p:1",), "worker", 1)
    monkeypatch.delenv("TF_CONFIG")
    monkeypatch.setenv("DLS_TASK_NUMBER", "2")
    monkeypatch.setenv("DLS_TASK_INDEX", "1")
    monkeypatch.setenv("BATCH_CUSTOM0_HOSTS", "n0:6666")
    monkeypatch.setenv("BATCH_CUSTOM1_HOSTS", "n1:6666")
    found = cluster_module.current_cluster()
    assert (found.workers, found.ps, found.task_index, found.is_chief) == (
        ("n0:6666", "n1:6666"), (), 1, False)
    monkeypatch.delenv("BATCH_CUSTOM1_HOSTS")
    with pytest.raises(ValueError, match="BATCH_CUSTOM1_HOSTS is not set"):
        cluster_module.current_cluster()
