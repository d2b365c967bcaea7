"""``mox launch``: the local processes of a cluster, their flags, output, exit code and end."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mox_core import launch

TRAIN_SCRIPT = Path(__file__).with_name("distributed_train_script.py")

# A stand-in for a training script: prints the flags it got (and its pid); a ps serves until
# stopped; worker --fail=N exits with code N, worker --hang sleeps.
TASK = """
import os, sys, time
flags = dict(arg.lstrip("-").split("=", 1) for arg in sys.argv[1:])
print("pid", os.getpid(), "job", flags["job_name"], "task", flags["task_index"],
      "ps", flags["ps_hosts"], "workers", flags["worker_hosts"], flush=True)
if flags["job_name"] == "ps" or flags.get("hang") == flags["task_index"]:
    time.sleep(600)
sys.exit(int(flags.get("fail", 0)) if flags.get("fail_task") == flags["task_index"] else 0)
"""


@pytest.fixture
def task_script(tmp_path):
    path = tmp_path / "task.py"
    path.write_text(textwrap.dedent(TASK))
    return [sys.executable, str(path)]


def lines_of(out: io.BytesIO) -> list[str]:
    return out.getvalue().decode().splitlines()


def test_each_task_gets_its_flags_and_the_ps_is_stopped_when_the_workers_finish(task_script):
    out = io.BytesIO()
    started = time.monotonic()
    assert launch.launch(task_script, num_ps=1, num_workers=2, out=out) == 0
    assert time.monotonic() - started < 60  # the ps (sleeping 600 s) was stopped
    lines = lines_of(out)
    seen = {}
    for line in lines:
        match = re.match(r"\[(\w+)\] pid \d+ job (\w+) task (\d) ps (\S+) workers (\S+)$", line)
        if match:
            seen[match.group(1)] = match.groups()[1:]
    assert set(seen) == {"ps0", "worker0", "worker1"}
    assert seen["worker1"][:2] == ("worker", "1") and seen["ps0"][:2] == ("ps", "0")
    ps_hosts, worker_hosts = seen["ps0"][2], seen["ps0"][3]
    assert all(task[2:] == (ps_hosts, worker_hosts) for task in seen.values())  # one cluster
    addresses = [ps_hosts, *worker_hosts.split(",")]
    assert len(set(addresses)) == 3 and all(a.startswith("127.0.0.1:") for a in addresses)
    assert lines[-1] == "[launch] every worker finished; ps task(s) stopped"


def test_the_first_failure_is_the_exit_code_and_stops_every_other_task(task_script):
    out = io.BytesIO()
    started = time.monotonic()
    code = launch.launch([*task_script, "--fail=3", "--fail_task=1", "--hang=0"],
                         num_ps=1, num_workers=2, out=out)
    assert code == 3
    assert time.monotonic() - started < 60  # worker0 and ps0 (sleeping) were stopped
    pids = [int(m.group(1)) for m in re.finditer(r"pid (\d+)", out.getvalue().decode())]
    assert len(pids) == 3
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert lines_of(out)[-1] == ("[launch] worker1 failed with exit code 3; stopped the other "
                                 "tasks")


def test_ctrl_c_stops_every_task(task_script):
    process = subprocess.Popen(
        [sys.executable, "-m", "mox_core.launch", "--ps", "1", "--workers", "1", "--",
         *task_script, "--hang=0"], stdout=subprocess.PIPE, text=True)
    pids = []
    try:
        for line in process.stdout:
            match = re.search(r"pid (\d+)", line)
            if match:
                pids.append(int(match.group(1)))
            if len(pids) == 2:
                break
        process.send_signal(signal.SIGINT)
        rest = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "[launch] launch (interrupted) failed with exit code 130" in rest
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workers", "0", "--", "python", "x.py"], "--workers must be >= 1, got 0"),
        (["--ps", "-1", "--", "python", "x.py"], "--ps must be >= 0, got -1"),
        (["--ps", "1"], "needs the command to start after '--'"),
        (["--", "/nonexistent/python"], "cannot start '/nonexistent/python' for ps0"),
    ],
)
def test_bad_arguments_are_clear_errors(argv, message, capsys):
    assert launch.main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_launch_trains_a_real_script_in_sync_mode(tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "mox_core.launch", "--ps", "1", "--workers", "2", "--",
         sys.executable, str(TRAIN_SCRIPT), "--steps=3", "--sync_replicas=true",
         f"--train_url={tmp_path / 'logs'}"],
        capture_output=True, text=True, timeout=400,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert process.returncode == 0, process.stdout[-3000:]
    for worker in ("worker0", "worker1"):
        steps = re.findall(rf"^\[{worker}\] INFO:tensorflow:step: (\d+)\(global step: (\d+)\)",
                           process.stdout, re.M)
        assert steps == [("0", "0"), ("1", "1"), ("2", "2")]
    assert (tmp_path / "logs" / "checkpoint").exists()


def test_the_mox_command_runs_launch():
    process = subprocess.run([sys.executable, "-m", "mox_core.cli", "launch", "--workers", "0",
                              "--", "python", "x.py"], capture_output=True, text=True,
                             timeout=60)
    assert process.returncode == 2
    assert "--workers must be >= 1, got 0" in process.stderr
