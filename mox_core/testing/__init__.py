"""Conformance checks for mox plugins: call them from a plugin's own tests.

A plugin author tests what the plugin registers the way mox will use it::

    # tests/test_registrations.py of the distribution "my-nets"
    import pytest
    from mox_core import testing

    def test_the_plugin_is_installed_and_its_records_resolve():
        testing.check_plugin_registrations("my-nets", expected={"networks": ["tiny_net"]})

    @pytest.mark.parametrize("name", testing.registered_names("my-nets", "networks"))
    def test_network(name, tmp_path):
        testing.check_network(name, tmp_dir=tmp_path, distribution="my-nets")

Every ``check_*`` function raises ``AssertionError`` with a message naming the plugin's
distribution and the network, pipeline or optimizer that is wrong, and what was expected, so a
failing test reads as a bug report. They return what they measured (shapes, the training loss,
the export folder) for further assertions. The kit needs TensorFlow (imported on first use)
but not pytest: plain asserts and temporary folders are all it uses.

The networks are built on random inputs in their own ``tf.Graph`` (nothing leaks into the
caller's graph); pass a small ``image_size`` where a network allows it, to keep tests fast.

One module per thing checked: ``registrations`` (the plugin is found; what it registers) and
``records`` (each record's fields), ``networks`` (build, train, export, data formats) with
``training`` and ``export``, ``pipelines`` (preprocessing), ``optimizers``, ``storage``
(``mox.file`` backends), ``datasets`` (readers and named datasets); ``graphs`` holds
the building blocks for a plugin's own numeric tests, ``logs`` reads the training log line. ``no_skips`` is a pytest plugin for CI
(``pytest -p mox_core.testing.no_skips``): a skipped test fails.
"""

from mox_core.testing.datasets import check_named_dataset, check_reader
from mox_core.testing.graphs import build_network, random_images, randomized_values, run_graph
from mox_core.testing.logs import STEP_LINE, logged_values, step_lines
from mox_core.testing.networks import NetworkCheck, check_data_formats, check_network
from mox_core.testing.optimizers import check_optimizer
from mox_core.testing.pipelines import check_preprocessing
from mox_core.testing.registrations import (
    check_plugin_registrations,
    plugin_info,
    registered_names,
)
from mox_core.testing.storage import check_filesystem
from mox_core.testing.training import band_images, check_learns, toy_task

__all__ = [
    "STEP_LINE",
    "band_images",
    "NetworkCheck",
    "build_network",
    "check_data_formats",
    "check_filesystem",
    "check_learns",
    "check_named_dataset",
    "check_network",
    "check_optimizer",
    "check_plugin_registrations",
    "check_preprocessing",
    "check_reader",
    "logged_values",
    "plugin_info",
    "random_images",
    "randomized_values",
    "registered_names",
    "run_graph",
    "step_lines",
    "toy_task",
]
