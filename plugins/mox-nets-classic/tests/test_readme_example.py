"""The README's first run works as written: it trains LeNet, then evaluates it."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_example() -> str:
    section = README.read_text().split("## A first run", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_trains_and_evaluates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_example(), str(README), "exec"), namespace)
    metrics = namespace["metrics"]
    assert set(metrics) == {"loss", "accuracy"}
    assert metrics["accuracy"] > 0.9
    assert (tmp_path / "mox-demo" / "checkpoint").is_file()
