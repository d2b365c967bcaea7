"""What a plugin author sees when the plugin is wrong: one warning line naming the distribution
and the fix, the plugin shown with its problem by ``mox plugins``, and every other plugin, the
listings included, working as before."""

from __future__ import annotations

import warnings

import pytest

from mox_core import cli, plugins
from mox_core.registry import RegistrationConflict


def plugin(body: str, record: str = "NetworkSpec", hook: str = "mox_networks",
           marked: bool = True) -> str:
    """The source of a plugin module whose ``hook`` returns ``body``."""
    return (f"from mox_core import hookimpl\nfrom mox_core.registry import {record}\n\n"
            f"{'@hookimpl' if marked else ''}\ndef {hook}():\n    {body}\n")


def net(name: str, size: object = 32) -> str:
    return f"NetworkSpec(name={name!r}, builder='fake_builders:build', default_image_size={size!r})"


GOOD_PLUGIN = plugin(f"return [{net('fake_good')}]")

#: kind of breakage -> (plugin module, warning category, what the warning says after the name)
BROKEN = {
    "wrong return type": (
        plugin(f"return {net('fake_one')}"), plugins.PluginHookWarning,
        "hook mox_networks failed and what it adds is left out: TypeError: expected a list of "
        "NetworkSpec, got a single NetworkSpec 'fake_one': return it in a list"),
    "wrong record kind": (
        plugin("return [OptimizerSpec(name='fake_opt', factory='fake_builders:build')]",
               record="OptimizerSpec"), plugins.PluginHookWarning,
        "hook mox_networks failed and what it adds is left out: TypeError: expected a list of "
        "NetworkSpec, got an item of type OptimizerSpec 'fake_opt': OptimizerSpec records are "
        "returned by the hook mox_optimizers"),
    "missing field": (
        plugin("return [NetworkSpec(name='fake_sizeless', builder='fake_builders:build')]"),
        plugins.PluginHookWarning,
        "hook mox_networks failed and what it adds is left out: TypeError: NetworkSpec.__init__() "
        "missing 1 required positional argument: 'default_image_size'"),
    "bad field type": (
        plugin(f"return [{net('fake_str_size', '32')}]"), plugins.PluginHookWarning,
        "hook mox_networks failed and what it adds is left out: RecordError: NetworkSpec "
        "'fake_str_size': field default_image_size must be a positive int, got str '32'"),
    "raising hook": (
        plugin("raise KeyError('no such table')"), plugins.PluginHookWarning,
        "hook mox_networks failed and what it adds is left out: KeyError: 'no such table'"),
    "built-in name": (
        plugin(f"return [{net('lenet', 28)}]"), plugins.PluginConflictWarning,
        "its network 'lenet' is left out: that name is 'mox-nets-classic''s (mox's catalog); "
        "rename yours"),
    "misspelt hook": (
        plugin(f"return [{net('fake_typo')}]", hook="mox_network"),
        plugins.PluginHookNameWarning,
        "its function mox_network is not a mox hook, so mox never calls it: did you mean "
        "mox_networks?"),
    "hook without @hookimpl": (
        plugin(f"return [{net('fake_unmarked')}]", marked=False), plugins.PluginHookNameWarning,
        "its function mox_networks is not marked @hookimpl, so mox never calls it: decorate it "
        "with @mox_core.hookimpl"),
}


def plugin_warnings(record, category) -> list[str]:
    """The warnings of ``category`` about this test's plugins (distributions named fake-*)."""
    return [str(w.message) for w in record if issubclass(w.category, category)
            and "distribution 'fake-" in str(w.message)]


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    """``mox ARGV`` in this process: its exit status and what it printed."""
    status = cli.main(list(argv))
    return status, capsys.readouterr().out


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_plugin_is_named_once_and_everything_else_works(kind, fake_dists, capsys):
    source, category, fix = BROKEN[kind]
    fake_dists.add("fake-broken", {"fake_broken": source}, {"broken": "fake_broken"},
                   version="0.1")
    fake_dists.add("fake-good", {"fake_good": GOOD_PLUGIN}, {"good": "fake_good"})
    with pytest.warns(plugins.PluginWarning) as record:
        status, listed = run_cli(capsys, "plugins")
    assert plugin_warnings(record, plugins.PluginWarning) == [
        f"mox plugin 'broken' of distribution 'fake-broken': {fix}"]
    assert status == 0
    assert "fake-broken 0.1  (fake_broken)  [" in listed  # [HOOK FAILED] or [PROBLEM]
    assert fix.split(": ", 1)[-1] in listed
    assert "mox-core" in listed and "fake-good 1.0  (fake_good)\n    networks: fake_good" in listed
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, at the first use, not again
        status, nets = run_cli(capsys, "nets")
        assert status == 0 and "fake_good" in nets and "fake-broken" not in nets
        assert run_cli(capsys, "flags")[0] == 0
        assert plugins.registry("networks").get("fake_good").distribution == "fake-good"
        assert "sgd" in plugins.registry("optimizers")


def test_a_core_name_stays_the_cores_and_the_plugin_keeps_its_other_names(fake_dists):
    fake_dists.add("fake-opts", {"fake_opts": plugin(
        "return [OptimizerSpec(name=n, factory='fake_builders:build') for n in ('sgd', 'fake_sgd')]",
        record="OptimizerSpec", hook="mox_optimizers")}, {"opts": "fake_opts"})
    with pytest.warns(plugins.PluginConflictWarning) as record:
        optimizers = plugins.registry("optimizers")
    assert plugin_warnings(record, plugins.PluginConflictWarning) == [
        "mox plugin 'opts' of distribution 'fake-opts': its optimizer 'sgd' is left out: that "
        "name is the core's; rename yours"]
    assert optimizers.get("sgd").distribution == "mox-core"
    assert optimizers.get("fake_sgd").distribution == "fake-opts"


def test_two_third_parties_sharing_a_name_lose_that_name_alone(fake_dists, capsys, tmp_path):
    fake_dists.add("fake-one", {"fake_one": plugin(f"return [{net('twin')}, {net('fake_one_net')}]")},
                   {"one": "fake_one"})
    fake_dists.add("fake-two", {"fake_two": plugin(f"return [{net('twin')}]")}, {"two": "fake_two"})
    fake_dists.add("fake-good", {"fake_good": GOOD_PLUGIN}, {"good": "fake_good"})
    conflict = ("network 'twin' is registered by distribution 'fake-one' and by 'fake-two', so "
                "neither can be used: one of the plugins must rename it (tell their authors); "
                "until then, uninstall the one you do not use")
    with pytest.warns(plugins.PluginConflictWarning) as record:
        status, listed = run_cli(capsys, "plugins")
    assert plugin_warnings(record, plugins.PluginConflictWarning) == [
        f"mox plugin 'one' of distribution 'fake-one': {conflict}"]
    assert status == 0
    assert listed.count(f"    problem: {conflict}") == 2  # under both plugins
    status, nets = run_cli(capsys, "nets")
    assert status == 0
    assert "fake_one_net" in nets and "fake_good" in nets and "twin" not in nets
    assert run_cli(capsys, "nets", "twin") == (1, conflict + "\n")
    with pytest.raises(RegistrationConflict, match="'fake-one' and by 'fake-two'"):
        plugins.registry("networks").get("twin")
    assert cli.main(["train", "--net", "twin", "--data", str(tmp_path),
                     "--log-dir", str(tmp_path / "run")]) == 2
    assert f"mox: error: {conflict}" in capsys.readouterr().err


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("name", "tiny-net", "field name must be an identifier"),
    ("builder", "fake_builders.build", "field builder must be a callable or a "
                                       "'package.module:attribute' string"),
    ("default_labels_offset", -1, "field default_labels_offset must be an int >= 0"),
    ("default_logits_pattern", "", "field default_logits_pattern must be a non-empty str"),
    ("arg_scope", 3, "field arg_scope must be None, a callable or a 'package.module:attribute'"),
])
def test_every_field_of_a_record_is_checked_where_it_is_collected(field, value, expected,
                                                                  fake_dists):
    fields = {"name": "fake_net", "builder": "fake_builders:build", "default_image_size": 32,
              field: value}
    fake_dists.add("fake-bad", {"fake_bad": plugin(f"return [NetworkSpec(**{fields!r})]")},
                   {"bad": "fake_bad"})
    with pytest.warns(plugins.PluginHookWarning) as record:
        plugins.registry("networks")
    [message] = plugin_warnings(record, plugins.PluginHookWarning)
    assert f"hook mox_networks failed and what it adds is left out: RecordError: NetworkSpec " \
           f"{fields['name']!r}: {expected}" in message


@pytest.mark.parametrize(("record", "expected"), [
    ('FlagSpec(name="fake_depth", type="int", default=3, help="depth")',
     "field type must be one of 'string', 'integer', 'float', 'boolean', 'enum', got str 'int'"),
    ('FlagSpec(name="fake_depth", type="integer", default="3", help="depth")',
     "field default must be None or an int (its type is 'integer'), got str '3'"),
    ('FlagSpec(name="fake_mode", type="enum", default="x", help="mode", choices=("a", "b"))',
     "field default must be None or one of its choices 'a', 'b', got str 'x'"),
    ('FlagSpec(name="fake_depth", type="integer", default=3, help="")',
     "field help must be a non-empty str, got str ''"),
])
def test_a_flag_record_is_checked_against_its_type(record, expected, fake_dists):
    fake_dists.add("fake-flags", {"fake_flags": plugin(f"return [{record}]", record="FlagSpec",
                                                       hook="mox_flags")}, {"flags": "fake_flags"})
    with pytest.warns(plugins.PluginHookWarning) as record_:
        names = plugins.registry("flags").names()
    [message] = plugin_warnings(record_, plugins.PluginHookWarning)
    assert message.endswith(expected)
    assert "num_gpus" in names
