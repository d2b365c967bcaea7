"""The plugin as mox finds it: its entry point loads, and what it registers is what its
author meant to register."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping

from mox_core import hookspecs, plugins
from mox_core.testing.records import check_record


def plugin_info(distribution: str) -> plugins.PluginInfo:
    """The loaded plugin of ``distribution``, found through the ``mox`` entry-point group.

    Fails when the distribution is not installed, declares no entry point in the group, its
    plugin module failed to import, or mox saw another version than the installed one.
    """
    try:
        installed = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise AssertionError(
            f"distribution {distribution!r} is not installed (pip install it, e.g. "
            f"pip install -e . in its folder, before running its tests)"
        ) from None
    infos = [info for info in plugins.plugin_infos() if info.distribution == distribution]
    if not infos:
        raise AssertionError(
            f"distribution {distribution!r} {installed} is installed but declares no entry point "
            f"in the group {hookspecs.ENTRY_POINT_GROUP!r}; its pyproject.toml needs e.g.\n"
            f"[project.entry-points.{hookspecs.ENTRY_POINT_GROUP}]\n"
            f'my_plugin = "my_package.plugin"'
        )
    for info in infos:
        if not info.loaded:
            raise AssertionError(
                f"plugin {info.name!r} of distribution {distribution!r} ({info.module}) failed "
                f"to load: {info.error}"
            )
        if info.version != installed:
            raise AssertionError(
                f"plugin {info.name!r} of distribution {distribution!r}: mox found version "
                f"{info.version}, but {installed} is installed (a stale install on sys.path?)"
            )
    return infos[0]


def registered_names(distribution: str, kind: str = "networks",
                     pattern: str | None = None) -> list[str]:
    """Names of ``kind`` (``networks``, ``preprocessing``, ``optimizers``, ...) that
    ``distribution`` registers, naturally sorted, optionally filtered by a shell pattern.

    Meant for ``pytest.mark.parametrize``: one test per registered network.
    """
    registry = plugins.registry(kind)
    return [name for name in registry.names(pattern)
            if registry.get(name).distribution == distribution]


def check_plugin_registrations(
    distribution: str, expected: Mapping[str, Iterable[str]] | None = None
) -> dict[str, list[str]]:
    """Check everything ``distribution`` registers; return ``{kind: [names]}``.

    The plugin must be found through its entry point (see :func:`plugin_info`) and register
    something; every record's code target (``"module:attribute"``) must import and be
    callable; a network's meta must be sane and its preprocessing pipeline registered
    (:func:`mox_core.testing.records.check_record`). With ``expected`` (``{kind: names}``), the
    registered names must be exactly those, per kind. Two distributions registering one name
    fail here too, naming both.
    """
    plugin_info(distribution)
    found = plugins.registered_by(distribution)
    if not found:
        raise AssertionError(
            f"distribution {distribution!r} loads but registers nothing: its plugin module "
            f"implements no hook of mox_core.hookspecs, or its hooks return empty lists"
        )
    for kind, names in found.items():
        registry = plugins.registry(kind)
        for name in names:
            check_record(kind, f"{registry.kind} {name!r} of distribution {distribution!r}",
                         registry.get(name))
    if expected is not None:
        _check_expected(distribution, found, expected)
    return found


def _check_expected(distribution: str, found: Mapping[str, Iterable[str]],
                    expected: Mapping[str, Iterable[str]]) -> None:
    wanted = {kind: sorted(names) for kind, names in expected.items() if names}
    got = {kind: sorted(names) for kind, names in found.items()}
    if wanted == got:
        return
    lines = []
    for kind in sorted(set(wanted) | set(got)):
        missing = sorted(set(wanted.get(kind, ())) - set(got.get(kind, ())))
        extra = sorted(set(got.get(kind, ())) - set(wanted.get(kind, ())))
        if missing:
            lines.append(f"  {kind} expected but not registered: {', '.join(missing)}")
        if extra:
            lines.append(f"  {kind} registered but not expected: {', '.join(extra)}")
    raise AssertionError(f"distribution {distribution!r} does not register what was expected:\n"
                         + "\n".join(lines))
