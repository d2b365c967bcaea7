"""Finding plugins and building the registries from them.

Plugins are the modules named by entry points in the group ``mox`` plus the core's own
built-in plugin modules (``BUILTIN_PLUGINS``), all registered with one
``pluggy.PluginManager("mox")``. Nothing is loaded at import of this module: the first call to
``plugin_manager()`` or to a registry accessor does it, once per process (``reset()`` forgets
everything, for tests and for code that installs plugins at run time).

A plugin whose module fails to import is skipped with one warning naming its distribution and
the error; the rest keeps working. Set ``MOX_TRACE_PLUGINS=1`` to log every plugin as it loads.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import logging
import os
import threading
import types
import warnings
from typing import Any

import pluggy

from mox_core import hookspecs
from mox_core.constants import (
    NETWORK_NAMES,
    READER_DISTRIBUTIONS,
    distribution_for_network,
    distribution_for_reader,
)
from mox_core.registry import Registry

logger = logging.getLogger("mox")

CORE_DISTRIBUTION = "mox-core"

#: The core's own features, registered through the same hooks as any third-party plugin.
BUILTIN_PLUGINS = (
    "mox_core.builtin.flags",
    "mox_core.builtin.optimizers",
    "mox_core.builtin.preprocessing",
    "mox_core.builtin.readers",
    "mox_core.builtin.datasets",
    "mox_core.builtin.filesystems",
)


class PluginLoadWarning(UserWarning):
    """A plugin could not be imported; mox goes on without it."""


@dataclasses.dataclass
class PluginInfo:
    """One plugin module: where it came from and whether it loaded."""

    name: str  # entry point name ("classic"), or the module name for built-ins
    module: str
    distribution: str
    version: str
    error: str | None = None

    @property
    def loaded(self) -> bool:
        return self.error is None


class _State:
    def __init__(self) -> None:
        self.manager: pluggy.PluginManager | None = None
        self.infos: list[PluginInfo] = []
        self.registries: dict[str, Registry] = {}


_state = _State()
_lock = threading.RLock()


def _core_version() -> str:
    try:
        return importlib.metadata.version(CORE_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _load() -> _State:
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    trace = os.environ.get("MOX_TRACE_PLUGINS", "") not in ("", "0")
    infos: list[PluginInfo] = []
    core_version = _core_version()
    for module_name in BUILTIN_PLUGINS:
        module = importlib.import_module(module_name)
        manager.register(module, name=module_name)
        infos.append(PluginInfo(module_name, module_name, CORE_DISTRIBUTION, core_version))
    seen: set[tuple[str, str]] = set()
    for entry_point in importlib.metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP):
        dist = entry_point.dist
        dist_name = dist.metadata["Name"] if dist is not None else "unknown distribution"
        version = dist.version if dist is not None else "unknown"
        key = (dist_name, entry_point.value)
        if key in seen:  # one distribution visible twice on sys.path (e.g. an editable install)
            continue
        seen.add(key)
        info = PluginInfo(entry_point.name, entry_point.value, dist_name, version)
        infos.append(info)
        try:
            module = entry_point.load()
            if not isinstance(module, types.ModuleType):
                raise TypeError(f"entry point must name a module, got {module!r}")
            manager.register(module, name=f"{dist_name}:{entry_point.name}")
        except Exception as exc:  # a broken plugin must not break the core
            info.error = f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"mox plugin {entry_point.name!r} of distribution {dist_name!r} "
                f"({entry_point.value}) failed to load and is skipped: {info.error}",
                PluginLoadWarning,
                stacklevel=3,
            )
            continue
        if trace:
            logger.info("mox: loaded plugin %s from %s %s", entry_point.value, dist_name, version)
    state = _State()
    state.manager = manager
    state.infos = infos
    return state


def _ensure() -> _State:
    global _state
    with _lock:
        if _state.manager is None:
            _state = _load()
        return _state


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loading plugins on first call."""
    manager = _ensure().manager
    assert manager is not None
    return manager


def plugin_infos() -> list[PluginInfo]:
    """Every plugin mox found, loaded or not, built-ins first."""
    return list(_ensure().infos)


def reset() -> None:
    """Forget loaded plugins and registries; the next use finds them again."""
    global _state
    with _lock:
        _state = _State()


def _distribution_of(plugin_name: str) -> str:
    for info in _ensure().infos:
        if plugin_name in (info.module, f"{info.distribution}:{info.name}"):
            return info.distribution
    return plugin_name


def contributions(hook_name: str) -> list[tuple[str, list[Any]]]:
    """``(distribution, records)`` for every plugin implementing ``hook_name``, in load order."""
    manager = plugin_manager()
    caller = getattr(manager.hook, hook_name)
    result = []
    # pluggy lists implementations last-registered first; report them in registration order.
    for impl in reversed(caller.get_hookimpls()):
        records = impl.function() or []
        result.append((_distribution_of(impl.plugin_name), list(records)))
    return result


_KINDS = {
    "networks": ("network", "mox_networks"),
    "preprocessing": ("preprocessing pipeline", "mox_preprocessing"),
    "optimizers": ("optimizer", "mox_optimizers"),
    "dataset_readers": ("dataset reader", "mox_dataset_readers"),
    "datasets": ("dataset", "mox_datasets"),
    "filesystems": ("URL scheme", "mox_filesystems"),
    "flags": ("flag", "mox_flags"),
}


def install_hint(what: str, distribution: str | None) -> str | None:
    """Which distribution to install (or upgrade) for one of mox's ``what`` (e.g. "networks")."""
    if distribution is None:
        return None
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return (
            f"It is one of mox's {what}, provided by the distribution {distribution!r}, "
            f"which is not installed: pip install {distribution}"
        )
    return (
        f"It is one of mox's {what}, provided by the distribution {distribution!r}, but the "
        f"installed version {version} does not register it: pip install --upgrade {distribution}"
    )


def _network_hint(name: str) -> str | None:
    return install_hint("networks", distribution_for_network(name))


def _reader_hint(name: str) -> str | None:
    return install_hint("dataset readers", distribution_for_reader(name))


_HINTS = {"networks": (_network_hint, NETWORK_NAMES),
          "dataset_readers": (_reader_hint, tuple(READER_DISTRIBUTIONS))}


def registry(kind: str) -> Registry:
    """The registry of one kind: ``networks``, ``preprocessing``, ``optimizers``,
    ``dataset_readers``, ``datasets``, ``filesystems`` or ``flags``."""
    if kind not in _KINDS:
        raise ValueError(f"unknown registry {kind!r}; expected one of {', '.join(_KINDS)}")
    state = _ensure()
    with _lock:
        if kind not in state.registries:
            word, hook_name = _KINDS[kind]
            hint, known = _HINTS.get(kind, (None, ()))
            state.registries[kind] = Registry(
                word, contributions(hook_name), missing_hint=hint, known_names=known
            )
        return state.registries[kind]


def registered_by(distribution: str) -> dict[str, list[str]]:
    """What one distribution registered, per kind (for ``mox plugins``)."""
    found: dict[str, list[str]] = {}
    for kind in _KINDS:
        names = [rec.name for rec in registry(kind) if rec.distribution == distribution]
        if names:
            found[kind] = names
    return found


def list_networks(pattern: str | None = None) -> list[str]:
    """Installed network names matching a shell-style pattern, naturally sorted."""
    return registry("networks").names(pattern)
