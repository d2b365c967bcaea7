"""The progress bar of ``mox convert`` and ``mox train`` (tqdm): redrawn in place on a
terminal, a bounded number of lines in a log, silent with ``--quiet``, and training's loss and
accuracy after it."""

from __future__ import annotations

import io
import logging
import re
import sys

import pytest
from test_cli_jobs import POOL_NET, POOL_NET_PLUGIN

from mox_core import cli
from mox_core.datasets.progress import LOG_LINES, progress_bar
from mox_core.demo import write_shapes_dataset


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_per_tenth_of_the_work_whatever_its_length():
    log = io.StringIO()
    with progress_bar(1000, "Converting flowers", stream=log) as bar:
        for _ in range(1000):
            bar.update()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) == 1 + LOG_LINES
    assert lines[0].startswith("Converting flowers:   0%|") and " 0/1000 [" in lines[0]
    assert lines[5].startswith("Converting flowers:  50%|#####     | 500/1000 [")
    assert lines[-1].startswith("Converting flowers: 100%|##########| 1000/1000 [")
    assert " images/s]" in lines[-1]


def test_the_last_count_is_written_once_when_steps_do_not_fall_on_tenths():
    log = io.StringIO()
    with progress_bar(95, "Training", stream=log) as bar:
        for images in [10] * 9 + [5]:
            bar.update(images)
    lines = log.getvalue().splitlines()
    assert len(lines) <= 1 + LOG_LINES
    assert [line for line in lines if "95/95" in line] == [lines[-1]]


def test_a_terminal_gets_the_bar_redrawn_in_place():
    terminal = Terminal()
    with progress_bar(3, "Converting", stream=terminal) as bar:
        for _ in range(3):
            bar.update()
    text = terminal.getvalue()
    assert text.startswith("\rConverting:   0%|") and text.endswith("\n")
    assert text.count("\n") == 1 and "3/3 [" in text
    # this one says it has no size (as some containers' do): tqdm would draw nothing at all
    assert {len(drawn) for drawn in text.strip().split("\r") if drawn} == {80}


def test_on_a_terminal_tensorflow_s_log_lines_print_above_the_bar(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    logger = logging.getLogger("tensorflow")
    console = logging.StreamHandler(sys.stderr)  # as TensorFlow's own handler
    monkeypatch.setattr(logger, "handlers", [console])
    monkeypatch.setattr(logger, "propagate", False)
    with progress_bar(2, "Training") as bar:
        bar.update()
        logger.warning("step: 1")
        bar.update()
    lines = [line.split("\r")[-1] for line in terminal.getvalue().split("\n")]
    assert "step: 1" in lines  # the bar cleared from its line first, not followed by the text
    assert lines[-2].startswith("Training: 100%|") and lines[-1] == ""  # then drawn below it
    assert logger.handlers == [console]


def test_a_disabled_bar_writes_nothing():
    log = io.StringIO()
    with progress_bar(10, "Training", stream=log, enabled=False) as bar:
        bar.update(10)
    assert log.getvalue() == ""


@pytest.mark.parametrize("quiet", [False, True])
def test_mox_train_shows_loss_and_accuracy_after_the_bar_unless_quiet(quiet, fake_dists,
                                                                      tmp_path, capsys):
    fake_dists.add("fake-pool", {"fake_pool_plugin": POOL_NET_PLUGIN, "fake_pool_net": POOL_NET},
                   {"pool": "fake_pool_plugin"})
    data = write_shapes_dataset(str(tmp_path / "data"), images_per_class=2, size=28)
    assert cli.main(["train", "--net", "fake_pool", "--data", data, "--log-dir",
                     str(tmp_path / "log"), "--max-steps", "30", "--batch-size", "2",
                     *(["--quiet"] if quiet else [])]) == 0
    bar = [line for line in capsys.readouterr().err.splitlines()
           if line.startswith("Training")]
    if quiet:
        assert bar == []
        return
    assert len(bar) == 1 + LOG_LINES  # 30 steps, a line for every third
    assert " 0/60 [" in bar[0]
    assert bar[-1].startswith("Training: 100%|##########| 60/60 [")
    for line in bar[1:]:  # the values of the step, as the log lines print them
        assert re.search(r" images/s, loss=\d+\.\d{3}, accuracy=[01]\.\d{3}\]$", line), line
