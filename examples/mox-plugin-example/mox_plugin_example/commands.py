"""``mox step-times LOG_DIR``: a summary of the step times :class:`StepTimer` recorded
(``mox_plugin_example.step_times``) in a training folder.

Every ``mox`` invocation imports this module to build its parser, so it imports no TensorFlow.
"""

from __future__ import annotations

import argparse
import csv
import os
from typing import Any

FILE_NAME = "step_times.csv"


def step_times_path(log_dir: str) -> str:
    return os.path.join(log_dir, FILE_NAME)


def read_step_times(log_dir: str) -> list[tuple[int, float]]:
    """``(step, seconds)`` rows of ``LOG_DIR/step_times.csv``; a ``ValueError`` naming the file
    when there is none (mox prints it as one error line)."""
    path = step_times_path(log_dir)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return [(int(row["step"]), float(row["seconds"])) for row in csv.DictReader(handle)]
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist: train with --step_times to record the step "
                         f"times of a run") from None


def cmd_step_times(args: argparse.Namespace) -> int:
    rows = read_step_times(args.log_dir)
    if not rows:
        raise ValueError(f"{step_times_path(args.log_dir)} records no step")
    seconds = [row[1] for row in rows]
    slowest = max(rows, key=lambda row: row[1])
    print(f"{len(rows)} steps ({rows[0][0]}-{rows[-1][0]}): mean {sum(seconds) / len(rows):.4f} s, "
          f"slowest step {slowest[0]} ({slowest[1]:.4f} s)")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "step-times", help="summarize the step times recorded in a training folder "
                           "(mox-plugin-example; train with --step_times)")
    parser.add_argument("log_dir", metavar="LOG_DIR", help="mox train's --log-dir")
    parser.set_defaults(func=cmd_step_times)
