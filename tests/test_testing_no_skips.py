"""mox_core.testing.no_skips, the pytest plugin tox loads: in CI a skipped test is a failure."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SUITE = {
    "test_some.py": """
        import pytest

        def test_runs():
            pass

        @pytest.mark.skipif(True, reason="network 'lenet' is not installed")
        def test_marked():
            pass

        def test_skips_itself():
            pytest.skip("no GPU here")

        @pytest.fixture
        def server():
            pytest.skip("the weed binary is missing")

        def test_needs_server(server):
            pass

        @pytest.mark.xfail(reason="a known bug", strict=True)
        def test_known_bug():
            assert False
    """,
    "test_module_level.py": """
        import pytest

        pytest.importorskip("a_module_nobody_installed")

        def test_never_collected():
            pass
    """,
}


@pytest.fixture
def suite(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    for name, source in SUITE.items():
        (tmp_path / name).write_text(textwrap.dedent(source))
    return tmp_path


def run_pytest(folder, *args):
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "."]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120)


def test_without_the_plugin_skips_are_skips(suite):
    result = run_pytest(suite, "-rs")
    assert result.returncode == 0, result.stdout
    assert "1 passed, 4 skipped, 1 xfailed" in result.stdout


def test_with_the_plugin_every_skip_fails_naming_the_test_and_the_reason(suite):
    result = run_pytest(suite, "-p", "mox_core.testing.no_skips", "--continue-on-collection-errors")
    assert result.returncode == 1, result.stdout
    out = result.stdout
    assert "1 passed, 1 xfailed" in out and "3 errors" in out and "1 failed" in out
    for test, reason in [
        ("test_some.py::test_marked", "network 'lenet' is not installed"),
        ("test_some.py::test_skips_itself", "no GPU here"),
        ("test_some.py::test_needs_server", "the weed binary is missing"),
        ("test_module_level.py", "could not import 'a_module_nobody_installed'"),
    ]:
        assert f"{test} was skipped: {reason}" in out, (test, out)
    assert "a CI run must run every test" in out


def test_a_module_level_skip_stops_the_run_as_a_collection_error(suite):
    result = run_pytest(suite, "-p", "mox_core.testing.no_skips")
    assert result.returncode != 0
    assert "ERROR collecting test_module_level.py" in result.stdout
    assert "Interrupted: 1 error during collection" in result.stdout
