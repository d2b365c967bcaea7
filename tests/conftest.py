"""Shared fixtures of the core's tests."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from mox_core import plugins


class FakeDistributions:
    """Installs small plugin distributions into a folder on ``sys.path``.

    Each one is a real ``*.dist-info`` folder with ``METADATA`` and ``entry_points.txt`` next
    to its plugin module, so ``importlib.metadata`` finds it exactly as it finds a
    pip-installed plugin.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def add(self, name: str, modules: dict[str, str], entry_points: dict[str, str],
            version: str = "1.0") -> None:
        for module_name, source in modules.items():
            (self.root / f"{module_name}.py").write_text(textwrap.dedent(source))
        dist_info = self.root / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        lines = ["[mox]"] + [f"{ep} = {target}" for ep, target in entry_points.items()]
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        plugins.reset()


@pytest.fixture
def fake_dists(tmp_path, monkeypatch):
    """Plugin distributions made on disk for one test; forgotten afterwards."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    plugins.reset()
    yield FakeDistributions(root)
    for name in [m for m in sys.modules if m.startswith("fake_")]:
        del sys.modules[name]
    plugins.reset()
