"""A pytest plugin for CI: a test that would be skipped fails instead, naming itself and why.

A skip is right on a developer's machine that lacks something (a plugin, a binary), but in CI
it hides a test that never runs while the run stays green. Every CI environment must therefore
provide what its tests need; this plugin turns each skip -- ``pytest.skip``, ``skipif``,
``importorskip``, at module level or inside a test or fixture -- into a failure that says which
test was skipped and the skip's reason. Expected failures (``xfail``) are left alone.

Load it explicitly, as ``tox.ini`` does in every environment::

    pytest -p mox_core.testing.no_skips

A plain ``pytest`` does not load it, so local runs still skip what they cannot run.
"""

from __future__ import annotations

import pytest

_WHY = ("mox_core.testing.no_skips fails every skip, since a CI run must run every test: give "
        "this environment what the test needs (tox.ini), or move the test to one that has it")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        _fail(report, item.nodeid)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    if report.skipped:
        _fail(report, collector.nodeid)
    return report


def _fail(report: pytest.TestReport | pytest.CollectReport, nodeid: str) -> None:
    """Make the skip ``report`` a failure; pytest gives a skip's ``longrepr`` as
    ``(path, line, 'Skipped: reason')``."""
    path, line, message = report.longrepr
    reason = message.removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = f"{nodeid} was skipped: {reason} ({path}:{line}). {_WHY}"
