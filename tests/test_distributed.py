"""Distributed training on TensorFlow's runtime: real ps and worker processes on loopback."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import tensorflow.compat.v1 as tf

import mox_core as mox
from mox_core.executor import cluster as cluster_module
from mox_core.executor import distributed

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


class Task:
    """One process of the cluster; a thread collects its output lines as they come."""

    def __init__(self, command, env):
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env=env)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self):
        return "".join(self.lines)

    def wait_for(self, pattern, timeout=240):
        """Block until a line matches ``pattern`` (its match returned); fail after timeout."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for line in self.lines[seen:]:
                seen += 1
                match = re.search(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None and seen == len(self.lines):
                self._reader.join(5)
                if seen == len(self.lines):
                    break
            time.sleep(0.05)
        raise AssertionError(f"no line matched {pattern!r}; output:\n{self.output[-3000:]}")

    def ended(self, timeout=240):
        """Wait for the process to end; return its whole output."""
        self.process.wait(timeout)
        self._reader.join(10)
        return self.output

    def finish(self, timeout=240):
        output = self.ended(timeout)
        assert self.process.returncode == 0, output[-3000:]
        return output

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self._reader.join(10)


class Cluster:
    def __init__(self, tmp_path, num_ps=1, num_workers=2):
        ports = free_ports(num_ps + num_workers)
        self.ps = [f"127.0.0.1:{p}" for p in ports[:num_ps]]
        self.workers = [f"127.0.0.1:{p}" for p in ports[num_ps:]]
        self.log_dir = tmp_path / "logs"
        self.tasks = []

    def start_task(self, job, index, *extra):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MOX_STARTUP_TIMEOUT="90",
                   PYTHONUNBUFFERED="1")
        env.pop("http_proxy", None)
        task = Task([sys.executable, str(SCRIPT), f"--job_name={job}", f"--task_index={index}",
                     f"--ps_hosts={','.join(self.ps)}", f"--worker_hosts={','.join(self.workers)}",
                     f"--train_url={self.log_dir}", *extra], env)
        self.tasks.append(task)
        return task

    def start_all(self, *extra):
        """Start every ps task and every worker; return the workers."""
        for index in range(len(self.ps)):
            self.start_task("ps", index)
        return [self.start_task("worker", i, *extra) for i in range(len(self.workers))]

    def run(self, *extra):
        return [worker.finish() for worker in self.start_all(*extra)]

    def stop(self):
        for task in self.tasks:
            if task.process.poll() is None:
                task.kill()


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
    for worker_steps in steps:  # each worker's own updates advance the shared step
        globals_seen = [g for _, g in worker_steps]
        assert globals_seen == sorted(set(globals_seen)), globals_seen
    # A step logs the shared step read back after its increment, minus one: two workers
    # incrementing at the same moment may both read the later value (async training promises no
    # more), but the last read sees every update: 16 counted, none lost.
    global_steps = [g for worker_steps in steps for _, g in worker_steps]
    assert len(global_steps) == 16 and max(global_steps) == 15 and min(global_steps) >= 0
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


def test_sync_workers_stay_in_step_and_each_step_averages_one_gradient_of_each(cluster):
    c = cluster(num_ps=1, num_workers=2)
    outputs = c.run("--steps=8", "--sync_replicas=true", "--probe")
    for output in outputs:
        # every worker made steps 0..7, and its step k went into global step k
        assert logged_steps(output) == [(k, k) for k in range(8)]
    # the probe's w moves by the mean gradient each step: worker 0 gives 1, worker 1 gives 2
    checkpoint = tf.train.load_checkpoint(str(c.log_dir))
    assert checkpoint.get_tensor("global_step") == 8
    assert checkpoint.get_tensor("w") == pytest.approx(-1.5 * 8)


SYNC_RUN = ("--steps=30", "--sync_replicas=true", "--probe", "--pace=0.2", "--save_steps=2")


def newest_checkpoint(log_dir):
    """(global_step, w) of the newest checkpoint the chief finished writing."""
    reader = tf.train.load_checkpoint(str(log_dir))
    return int(reader.get_tensor("global_step")), float(reader.get_tensor("w"))


def test_a_worker_killed_mid_run_leaves_whole_checkpoints_and_rejoins_when_restarted(cluster):
    c = cluster(num_ps=1, num_workers=2)
    chief, worker = c.start_all(*SYNC_RUN)
    worker.wait_for(r"step: 4\(global step")
    worker.kill()
    time.sleep(2)  # the chief cannot finish a step without worker 1: it waits for it
    stalled_at, w = newest_checkpoint(c.log_dir)
    assert 4 <= stalled_at < 30
    assert w == pytest.approx(-1.5 * stalled_at)  # a whole, consistent checkpoint
    restarted = c.start_task("worker", 1, *SYNC_RUN)
    rejoined_at = int(restarted.wait_for(r"step: 0\(global step: (\d+)\)").group(1))
    assert rejoined_at >= stalled_at  # it picks up the cluster's step, not its own count
    for task in (chief, restarted):
        assert logged_steps(task.finish())[-1][1] == 29  # both ran to the end together
    assert newest_checkpoint(c.log_dir)[0] == 30


def test_the_chief_killed_mid_run_resumes_from_its_checkpoint_when_restarted(cluster):
    c = cluster(num_ps=1, num_workers=2)
    chief, worker = c.start_all(*SYNC_RUN)
    chief.wait_for(r"Saving checkpoints for (?:[4-9]|\d\d+) into")
    chief.kill()
    saved, _ = newest_checkpoint(c.log_dir)
    restarted = c.start_task("worker", 0, *SYNC_RUN)
    resumed = restarted.wait_for(r"Resuming training from \S*model\.ckpt-(\d+)")
    assert int(resumed.group(1)) == saved
    assert int(restarted.wait_for(r"step: 0\(global step: (\d+)\)").group(1)) == saved
    for task in (restarted, worker):
        assert logged_steps(task.finish())[-1][1] == 29
    step, w = newest_checkpoint(c.log_dir)
    assert step == 30 and w < -1.5 * saved  # trained on past the restored step


def test_greedy_placement_puts_each_variable_on_the_least_loaded_ps():
    spec = cluster_module.Cluster(("p0:1", "p1:1", "p2:1"), ("w0:1",), "worker", 0, "test")
    sizes = {"big": 1000, "mid": 600, "small": 500, "tiny": 100, "last": 50}
    with tf.Graph().as_default(), tf.device(distributed.device_function(spec)):
        variables = {name: tf.get_variable(name, [size]) for name, size in sizes.items()}
        product = variables["big"] * 2.0
    tasks = {name: v.device for name, v in variables.items()}
    # loads after each: [1000,0,0] [1000,600,0] [1000,600,500] [1000,600,600] [1000,650,600]
    assert tasks == {"big": "/job:ps/task:0", "mid": "/job:ps/task:1",
                     "small": "/job:ps/task:2", "tiny": "/job:ps/task:2",
                     "last": "/job:ps/task:1"}
    assert product.device == "/job:worker/task:0"


def test_variables_spread_over_two_ps_tasks_by_size(cluster):
    c = cluster(num_ps=2, num_workers=1)
    c.run("--steps=2", "--sync_replicas=false")
    tasks = {device.split("/")[2] for device in variable_devices(c.log_dir).values()}
    assert tasks == {"task:0", "task:1"}


def test_a_worker_index_outside_the_host_list_is_an_error_at_start(tmp_path):
    c = Cluster(tmp_path, num_ps=1, num_workers=2)
    task = c.start_task("worker", 5)
    output = task.ended(timeout=120)
    assert task.process.returncode != 0
    assert "task_index 5 does not fit the 2 worker address(es)" in output


def test_a_port_in_use_is_an_error_not_a_hang(tmp_path):
    c = Cluster(tmp_path, num_ps=1, num_workers=1)
    host, port = c.workers[0].split(":")
    with socket.socket() as taken:
        taken.bind((host, int(port)))
        taken.listen()
        task = c.start_task("worker", 0)
        output = task.ended(timeout=120)
    assert task.process.returncode != 0
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


def test_sync_mode_waits_a_bounded_time_for_every_worker(tmp_path):
    workers = [f"127.0.0.1:{p}" for p in free_ports(2)]
    process = subprocess.run(
        [sys.executable, str(SCRIPT), "--job_name=worker", "--task_index=0",
         f"--worker_hosts={','.join(workers)}", "--sync_replicas=true", "--steps=1"],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, MOX_STARTUP_TIMEOUT="3"))
    assert process.returncode != 0
    assert f"worker 0: {workers[1]} did not answer within 3 s" in process.stderr


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
        with pytest.raises(ValueError, match=re.escape(message)):  # before any graph is built
            mox.run(input_fn=lambda mode: [], model_fn=lambda inputs, mode: None,
                    optimizer_fn=mox.get_optimizer_fn("sgd", 0.1), run_mode=mox.ModeKeys.TRAIN)
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
