"""bench/training_speed.py runs: its --quick mode (lenet, a few steps) prints a full table."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BENCH = Path(__file__).resolve().parents[3] / "bench" / "training_speed.py"
VARIANTS = ("hand", "mox fp32", "keras")
NUMBER = r"([0-9]+(?:\.[0-9]+)?)"


def test_quick_run_prints_a_row_of_figures_and_a_loss_curve_per_variant():
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--variants", "hand,mox_fp32,keras"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    out = result.stdout
    assert "lenet, 28 px, batch 16, 10 classes: 2 rounds of 3 timed steps" in out, out
    for name in VARIANTS:
        # steps/s, images/s, CPU ms/step, peak RSS MiB, vs hand, vs keras
        row = re.search(rf"^{name}\s+" + r"\s+".join([NUMBER] * 6) + r"$", out, re.MULTILINE)
        assert row, f"no row of figures for {name}:\n{out}"
        rate, images, cpu, rss, vs_hand, vs_keras = map(float, row.groups())
        assert rate > 0 and images == pytest.approx(16 * rate, rel=1e-2), row.group(0)
        assert cpu > 0 and rss > 100 and vs_hand > 0 and vs_keras > 0, row.group(0)
    assert re.search(r"^hand\s.*\s1\.000\s+\S+$", out, re.MULTILINE), out
    header = re.search(r"^\s+step\s+hand\s+mox fp32\s+keras$", out, re.MULTILINE)
    assert header, out
    rows = out[header.end():].split("\n\n")[0].strip().splitlines()
    # warm-up 2 + 2 rounds x 3 steps: the losses of steps 0, 1, 2, 5 and the last, 7
    assert [int(line.split()[0]) for line in rows] == [0, 1, 2, 5, 7], out
    for line in rows:
        assert all(math.isfinite(float(value)) for value in line.split()[1:]), line
    assert "mox fp32 / hand steps/s:" in out and "peak RSS mox fp32" in out, out
