"""``mox plugin new NAME`` writes a plugin distribution that installs, is listed and passes its
own tests out of the box."""

from __future__ import annotations

import os
import subprocess
import sys

from mox_core import cli


def run(args: list[str], cwd: str, path: list[str]) -> subprocess.CompletedProcess:
    """``python ARGS`` in ``cwd`` with ``path`` in front of this interpreter's sys.path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*path, *sys.path])}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_a_new_plugin_installs_is_listed_and_passes_its_tests(tmp_path, capsys):
    assert cli.main(["plugin", "new", "demo-plugin", "--dir", str(tmp_path)]) == 0
    project = tmp_path / "demo-plugin"
    assert f"wrote the mox plugin 'demo-plugin' into {project}/" in capsys.readouterr().out
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()) == [
        "README.md", "demo_plugin/__init__.py", "demo_plugin/network.py",
        "demo_plugin/plugin.py", "pyproject.toml", "tests/test_plugin.py", "tox.ini"]
    # installed as pip does it: the metadata its build backend writes, the package beside it
    site = tmp_path / "site"
    site.mkdir()
    built = run(["-c", "import setuptools.build_meta as backend; "
                       f"print(backend.prepare_metadata_for_build_wheel({str(site)!r}))"],
                cwd=str(project), path=[])
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip().splitlines()[-1] == "demo_plugin-0.1.0.dist-info"
    installed = [str(site), str(project)]
    listed = run(["-m", "mox_core.cli", "plugins"], cwd=str(tmp_path), path=installed)
    assert listed.returncode == 0, listed.stderr
    assert "demo-plugin 0.1.0  (demo_plugin.plugin)\n    networks: demo_plugin_net\n" \
        in listed.stdout
    assert "PluginWarning" not in listed.stderr
    tested = run(["-m", "pytest", "-q", "-p", "mox_core.testing.no_skips", "-p",
                  "no:cacheprovider", "tests"], cwd=str(project), path=installed)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "2 passed" in tested.stdout


def test_a_name_that_is_no_distribution_name_or_a_taken_folder_is_refused(tmp_path, capsys):
    assert cli.main(["plugin", "new", "my nets", "--dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "mox: error: plugin name 'my nets' must be a distribution name: letters and digits, "
        "words joined by '-' or '_', starting with a letter (e.g. my-nets)\n")
    (tmp_path / "taken").mkdir()
    assert cli.main(["plugin", "new", "taken", "--dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"mox: error: {str(tmp_path / 'taken')!r} exists already; choose another name or "
        f"folder\n")
