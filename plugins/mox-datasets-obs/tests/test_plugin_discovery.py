"""mox-datasets-obs is found through its installed entry point and registers its schemes."""

import importlib.metadata

from mox_core import plugins


def test_the_obs_plugin_is_discovered_through_its_entry_point():
    entry_points = importlib.metadata.entry_points(group="mox", name="obs")
    assert [ep.value for ep in entry_points] == ["mox_datasets_obs.plugin"]
    info = next(i for i in plugins.plugin_infos() if i.distribution == "mox-datasets-obs")
    assert info.loaded, info.error
    assert info.version == importlib.metadata.version("mox-datasets-obs")


def test_it_registers_obs_and_s3_and_the_async_reader():
    assert plugins.registered_by("mox-datasets-obs") == {
        "dataset_readers": ["AsyncRawGenerator"],
        "filesystems": ["obs", "s3"],
    }
    assert plugins.registry("filesystems").get("file").distribution == "mox-core"


def test_registering_imports_neither_the_sdk_nor_aiohttp():
    import subprocess
    import sys

    code = ("import sys; from mox_core import plugins; plugins.registry('filesystems'); "
            "plugins.registry('dataset_readers'); "
            "print(sorted(m for m in ('obs', 'aiohttp', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_scripts_name_the_reader_as_an_attribute_of_moxing_tensorflow():
    # MoXing's flowers-advanced tutorial: reader_class=mox.AsyncRawGenerator
    from mox_datasets_obs.reader import AsyncRawGenerator

    import moxing.tensorflow as mox

    assert mox.AsyncRawGenerator is AsyncRawGenerator
