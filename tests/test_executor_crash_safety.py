"""Crash safety: a training job killed with SIGKILL at any moment resumes from its newest
complete checkpoint, with a consistent global step and no half-written file referenced.

A real ``mox.run`` job (``crash_train_script.py``, checkpointing every step) is killed several
times at different moments -- while its session starts, while it restores, right as a
checkpoint starts being written, between steps, after a random delay -- and restarted on the
same ``log_dir`` each time; the last run trains to ``max_number_of_steps``.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import tensorflow.compat.v1 as tf

SCRIPT = Path(__file__).with_name("crash_train_script.py")
MAX_STEPS = 40
STEP_LINE = re.compile(r"INFO:tensorflow:step: (\d+)\(global step: (\d+)\)")
RESUME_LINE = re.compile(r"INFO:tensorflow:Resuming training from (\S+)")


@dataclasses.dataclass
class Kill:
    moment: str
    trigger: str  # a log line matching this regular expression...
    count: int  # ...seen this many times, then wait `delay` seconds and SIGKILL the job
    delay: float = 0.0


CHANCE = random.Random(20240611)
KILLS = [
    Kill("while the first session starts", r"Graph was finalized", 1),
    Kill("between steps, after 6 steps", STEP_LINE.pattern, 6),
    Kill("right as the run's third checkpoint starts being written",
         r"Saving checkpoints for \d+", 3),
    Kill("while restoring the newest checkpoint", RESUME_LINE.pattern, 1),
    Kill("at a random moment a few steps into training", STEP_LINE.pattern, 3,
         CHANCE.uniform(0.0, 0.5)),
]


def job(log_dir: Path) -> list[str]:
    return [sys.executable, str(SCRIPT), str(log_dir), str(MAX_STEPS)]


def environment() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}


def train_until_killed(log_dir: Path, kill: Kill) -> list[str]:
    """Start the job, SIGKILL it at ``kill``'s moment; return the log lines it wrote."""
    process = subprocess.Popen(job(log_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=environment())
    watchdog = threading.Timer(300, process.kill)
    watchdog.start()
    lines, seen = [], 0
    try:
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            if re.search(kill.trigger, line):
                seen += 1
                if seen == kill.count:
                    time.sleep(kill.delay)
                    process.send_signal(signal.SIGKILL)
                    break
        process.wait(timeout=60)
    finally:
        watchdog.cancel()
        process.stderr.close()
    tail = "\n".join(lines[-15:])
    assert process.returncode == -signal.SIGKILL, (
        f"the job was to be killed {kill.moment} but ended with code {process.returncode}:\n{tail}"
    )
    return lines


def newest_complete_checkpoint(log_dir: Path) -> int | None:
    """Check what a resume would read; return the global step it would resume from."""
    state = tf.train.get_checkpoint_state(str(log_dir))
    if state is None:
        return None  # no checkpoint recorded yet: a restart trains from step 0
    for path in {state.model_checkpoint_path, *state.all_model_checkpoint_paths}:
        prefix = log_dir / path
        assert prefix.with_name(prefix.name + ".index").is_file(), f"{path} has no index"
        assert list(log_dir.glob(f"{prefix.name}.data-*-of-*")), f"{path} has no data file"
    newest = tf.train.latest_checkpoint(str(log_dir))
    assert newest == str(log_dir / state.model_checkpoint_path)
    reader = tf.train.load_checkpoint(newest)
    for name in reader.get_variable_to_shape_map():
        reader.get_tensor(name)  # reads back intact (each tensor is checksummed)
    step = int(newest.rsplit("-", 1)[1])
    assert reader.get_tensor("global_step") == step
    meta = Path(newest + ".meta")
    if meta.exists():
        tf.MetaGraphDef().ParseFromString(meta.read_bytes())
    return step


def assert_resumed_from(lines: list[str], step: int | None) -> None:
    """The run restored the checkpoint of global step ``step`` and counted on from it."""
    resumed = [m.group(1) for m in map(RESUME_LINE.search, lines) if m]
    if step is None:
        assert resumed == []
    else:
        assert len(resumed) == 1 and resumed[0].endswith(f"model.ckpt-{step}")
    steps = [(int(m.group(1)), int(m.group(2))) for m in map(STEP_LINE.search, lines) if m]
    if steps:
        assert steps[0] == (0, step or 0)
        assert all(global_step == (step or 0) + local for local, global_step in steps)


@pytest.mark.slow
def test_a_job_killed_at_any_moment_resumes_from_its_newest_complete_checkpoint(tmp_path):
    log_dir = tmp_path / "log"
    resume_from = None
    progress = []
    for kill in KILLS:
        lines = train_until_killed(log_dir, kill)
        assert_resumed_from(lines, resume_from)
        resume_from = newest_complete_checkpoint(log_dir)
        progress.append(resume_from)

    final = subprocess.run(job(log_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True, env=environment(), timeout=300)
    lines = final.stderr.splitlines()
    assert final.returncode == 0, "\n".join(lines[-15:])
    assert_resumed_from(lines, resume_from)
    assert newest_complete_checkpoint(log_dir) == MAX_STEPS
    assert STEP_LINE.search([line for line in lines if STEP_LINE.search(line)][-1]).group(2) == (
        str(MAX_STEPS - 1))
    # training moved on between the kills, and never went back
    reached = [step or 0 for step in progress]
    assert reached == sorted(reached) and reached[-1] > 0, progress
