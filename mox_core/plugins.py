"""Finding plugins and building the registries from them.

Plugins are the modules named by entry points in the group ``mox`` plus the core's own
built-in plugin modules (``BUILTIN_PLUGINS``), all registered with one
``pluggy.PluginManager("mox")``. Nothing is loaded at import of this module: the first call to
``plugin_manager()`` or to a registry accessor does it, once per process (``reset()`` forgets
everything, for tests and for code that installs plugins at run time).

Every hook is called through pluggy's hook callers, one plugin at a time, so the core knows
which distribution returned what, and pluggy's hook-call monitoring sees each call. A plugin is
isolated as far as it fails: a module that fails to import is skipped, and a hook implementation
that raises, or returns anything but a list of valid records of its hook's type (every field is
checked, :func:`mox_core.registry.validate_record`), is left out of that call, each with one
warning naming the distribution, the hook, the record, the field and what was expected; the
rest keeps working. Conflicts are scoped to the name: a name the core registers, or that mox's
catalog (``mox_core.install_hints``) lists for a distribution, stays with its owner and another
plugin's record of it is left out with a warning to rename it; a name two other distributions
register is unusable (using it is an error naming both) and every other name works. A
``mox_*`` function of a plugin module that is no hook, or a hook not marked ``@hookimpl``, is
named in a warning with the nearest hook. ``mox plugins`` shows all of it. Set
``MOX_TRACE_PLUGINS=1`` to print every plugin as it loads and every hook call with what it
returned (on stderr).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib
import importlib.metadata
import os
import sys
import threading
import types
import warnings
from collections.abc import Callable
from typing import Any

import pluggy

from mox_core import hookspecs
from mox_core.constants import NETWORK_NAMES
from mox_core.install_hints import (
    READER_DISTRIBUTIONS,
    distribution_for_network,
    distribution_for_reader,
)
from mox_core.registry import (
    RECORD_TYPES,
    Registry,
    validate_record,
)

CORE_DISTRIBUTION = "mox-core"

#: The core's own features, registered through the same hooks as any third-party plugin.
BUILTIN_PLUGINS = (
    "mox_core.builtin.flags",
    "mox_core.builtin.optimizers",
    "mox_core.builtin.preprocessing",
    "mox_core.builtin.readers",
    "mox_core.builtin.datasets",
    "mox_core.builtin.filesystems",
    "mox_core.builtin.commands",
)


#: The hooks a plugin may implement (``mox_core.hookspecs``).
HOOK_NAMES = tuple(sorted(name for name, value in vars(hookspecs).items()
                          if name.startswith("mox_") and callable(value)))


class PluginWarning(UserWarning):
    """A plugin failed; mox goes on without the part that failed."""


class PluginLoadWarning(PluginWarning):
    """A plugin could not be imported; mox goes on without it."""


class PluginHookWarning(PluginWarning):
    """A plugin's hook implementation raised or returned the wrong type; mox goes on without
    what that call would have added."""


class PluginConflictWarning(PluginWarning):
    """A plugin registered a name that another distribution owns or registers too."""


class PluginHookNameWarning(PluginWarning):
    """A plugin defines a ``mox_*`` function that mox never calls (a misspelt hook, or a hook
    without ``@hookimpl``)."""


@dataclasses.dataclass
class PluginInfo:
    """One plugin module: where it came from and whether it loaded."""

    name: str  # entry point name ("classic"), or the module name for built-ins
    module: str
    distribution: str
    version: str
    error: str | None = None
    #: the name the module is registered under with the plugin manager
    plugin_name: str = ""
    #: hook name -> the error of its last failed call ("TypeError: ...")
    hook_errors: dict[str, str] = dataclasses.field(default_factory=dict)
    #: what else is wrong with it: names it may not use, functions mox never calls
    problems: list[str] = dataclasses.field(default_factory=list)

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
    if trace:
        manager.add_hookcall_monitoring(_trace_call, _trace_result)
    infos: list[PluginInfo] = []
    core_version = _core_version()
    for module_name in BUILTIN_PLUGINS:
        module = importlib.import_module(module_name)
        manager.register(module, name=module_name)
        infos.append(PluginInfo(module_name, module_name, CORE_DISTRIBUTION, core_version,
                                plugin_name=module_name))
    seen: set[tuple[str, str]] = set()
    for entry_point in importlib.metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP):
        dist = entry_point.dist
        dist_name = dist.metadata["Name"] if dist is not None else "unknown distribution"
        version = dist.version if dist is not None else "unknown"
        key = (dist_name, entry_point.value)
        if key in seen:  # one distribution visible twice on sys.path (e.g. an editable install)
            continue
        seen.add(key)
        info = PluginInfo(entry_point.name, entry_point.value, dist_name, version,
                          plugin_name=f"{dist_name}:{entry_point.name}")
        infos.append(info)
        try:
            module = entry_point.load()
            if not isinstance(module, types.ModuleType):
                raise TypeError(f"entry point must name a module, got {module!r}")
            manager.register(module, name=info.plugin_name)
        except Exception as exc:  # a broken plugin must not break the core
            info.error = f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"mox plugin {entry_point.name!r} of distribution {dist_name!r} "
                f"({entry_point.value}) failed to load and is skipped: {info.error}",
                PluginLoadWarning,
                stacklevel=3,
            )
            continue
        _check_hook_names(info, module)
        if trace:
            _trace(f"loaded plugin {entry_point.value} from {dist_name} {version}")
    state = _State()
    state.manager = manager
    state.infos = infos
    return state


def _check_hook_names(info: PluginInfo, module: types.ModuleType) -> None:
    """Warn about each ``mox_*`` function of the plugin module that mox never calls: a name
    that is no hook (with the nearest hook's name), or a hook not marked ``@hookimpl``."""
    marker = f"{hookspecs.PROJECT_NAME}_impl"  # the attribute pluggy's HookimplMarker sets
    for attr, value in vars(module).items():
        if (not attr.startswith("mox_") or not callable(value)
                or getattr(value, "__module__", module.__name__) != module.__name__):
            continue
        options = getattr(value, marker, None)
        hook = (options or {}).get("specname") or attr
        if hook in HOOK_NAMES:
            if options is None:
                _problem(info, f"its function {attr} is not marked @hookimpl, so mox never "
                               f"calls it: decorate it with @mox_core.hookimpl",
                         PluginHookNameWarning)
            continue
        close = difflib.get_close_matches(hook, HOOK_NAMES, n=1, cutoff=0.6)
        fix = f"did you mean {close[0]}?" if close else (
            f"the hooks are {', '.join(HOOK_NAMES)} (mox_core.hookspecs)")
        _problem(info, f"its function {attr} is not a mox hook, so mox never calls it: {fix}",
                 PluginHookNameWarning)


def _problem(info: PluginInfo, text: str, category: type[PluginWarning]) -> None:
    """Remember ``text`` for ``mox plugins`` and warn once, naming the plugin."""
    info.problems.append(text)
    warnings.warn(f"mox plugin {info.name!r} of distribution {info.distribution!r}: {text}",
                  category, stacklevel=4)


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


def _trace(line: str) -> None:
    """One line of ``MOX_TRACE_PLUGINS`` output, on stderr whatever logging is configured: the
    switch is for seeing what plugins do, also from the ``mox`` command."""
    print(f"mox: {line}", file=sys.stderr, flush=True)


def _trace_call(hook_name: str, hook_impls: list, kwargs: dict[str, Any]) -> None:
    for impl in hook_impls:
        _trace(f"calling hook {hook_name} of plugin {impl.plugin_name}")


def _trace_result(outcome: Any, hook_name: str, hook_impls: list,
                  kwargs: dict[str, Any]) -> None:
    plugin = ", ".join(impl.plugin_name for impl in hook_impls)
    if outcome.exception is not None:
        _trace(f"hook {hook_name} of plugin {plugin} raised "
               f"{type(outcome.exception).__name__}: {outcome.exception}")
        return
    for result in outcome.get_result() or [None]:  # pluggy leaves out None results
        shown = f"{len(result)} item(s)" if isinstance(result, list | tuple) else repr(result)
        _trace(f"hook {hook_name} of plugin {plugin} returned {shown}")


def hook_callers(hook_name: str) -> list[tuple[PluginInfo, Callable[..., Any]]]:
    """``(plugin, call)`` for every plugin implementing ``hook_name``, in load order (the core's
    built-ins first). ``call(**arguments)`` runs that plugin's implementation alone through
    pluggy's hook caller and returns what it returned (``None`` for nothing)."""
    state = _ensure()
    manager = state.manager
    assert manager is not None
    with _lock:
        by_name = {info.plugin_name: info for info in state.infos}
        impls = getattr(manager.hook, hook_name).get_hookimpls()
        for impl in impls:
            if impl.plugin_name not in by_name:  # registered on the manager by hand
                by_name[impl.plugin_name] = _registered_by_hand(state, impl)
    order = list(by_name)
    impls = sorted(impls, key=lambda impl: order.index(impl.plugin_name))
    return [
        (by_name[impl.plugin_name], functools.partial(_call_alone, manager.subset_hook_caller(
            hook_name, remove_plugins=[other.plugin for other in impls if other is not impl])))
        for impl in impls
    ]


def _call_alone(caller: Any, **arguments: Any) -> Any:
    """What the one implementation ``caller`` calls returned (pluggy leaves out ``None``)."""
    results = caller(**arguments)
    return results[0] if results else None


def _registered_by_hand(state: _State, impl: Any) -> PluginInfo:
    """The info of a module an application registered with ``plugin_manager().register``: it
    is its own distribution, named by its registration name, listed after the others."""
    module = getattr(impl.plugin, "__name__", impl.plugin_name)
    info = PluginInfo(impl.plugin_name, module, impl.plugin_name, "unknown",
                      plugin_name=impl.plugin_name)
    state.infos.append(info)
    return info


def call_isolated(info: PluginInfo, hook_name: str,
                  function: Callable[[], Any]) -> tuple[bool, Any]:
    """``(True, function())``, or ``(False, None)`` when it raises: a failing plugin must not
    break the core. The failure is remembered for ``mox plugins`` and reported in one
    :class:`PluginHookWarning` naming the plugin, its distribution, the hook and the error."""
    try:
        return True, function()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        info.hook_errors[hook_name] = error
        warnings.warn(
            f"mox plugin {info.name!r} of distribution {info.distribution!r}: hook {hook_name} "
            f"failed and what it adds is left out: {error}",
            PluginHookWarning,
            stacklevel=3,
        )
        return False, None


def call_hook(hook_name: str, check: Callable[[Any], Any],
              **arguments: Any) -> list[tuple[str, Any]]:
    """``(distribution, result)`` of every plugin implementing ``hook_name``, in load order.

    ``check(result)`` returns the result to keep or raises ``TypeError`` saying what was
    expected; a plugin whose implementation raises, or whose result ``check`` refuses, is left
    out (see :func:`call_isolated`).
    """
    found = []
    for info, call in hook_callers(hook_name):
        ok, result = call_isolated(info, hook_name,
                                   lambda call=call: check(call(**arguments)))
        if ok:
            found.append((info.distribution, result))
    return found


def list_of(item_type: type | tuple[type, ...], what: str) -> Callable[[Any], list[Any]]:
    """A ``check`` for :func:`call_hook`: the result as a list whose items are all
    ``item_type`` (``None`` is an empty list); anything else is a ``TypeError`` naming ``what``
    was expected and what came instead."""

    def check(result: Any) -> list[Any]:
        if result is None:
            return []
        if isinstance(result, item_type):
            raise TypeError(f"expected a list of {what}, got a single {_shown(result)}: "
                            f"return it in a list")
        if not isinstance(result, list | tuple):
            raise TypeError(f"expected a list of {what}, got {_shown(result)}")
        for item in result:
            if not isinstance(item, item_type):
                raise TypeError(f"expected a list of {what}, got an item of type "
                                f"{_shown(item)}")
        return list(result)

    return check


def _shown(value: Any) -> str:
    """``value`` in a message: its type, and its name when it has one (a record)."""
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return f"{type(value).__name__} {name!r}"
    return f"{type(value).__name__} {value!r:.60}"


def records_of(record_type: type) -> Callable[[Any], list[Any]]:
    """A ``check`` for :func:`call_hook` of a registration hook: a list of ``record_type``
    whose every field is valid (:func:`mox_core.registry.validate_record`)."""
    as_list = list_of(record_type, record_type.__name__)

    def check(result: Any) -> list[Any]:
        for item in result if isinstance(result, list | tuple) else ():
            hook = _HOOK_OF_RECORD.get(type(item))
            if hook is not None and not isinstance(item, record_type):
                raise TypeError(f"expected a list of {record_type.__name__}, got an item of "
                                f"type {_shown(item)}: {type(item).__name__} records are "
                                f"returned by the hook {hook}")
        records = as_list(result)
        for record in records:
            validate_record(record)
        return records

    return check


def contributions(hook_name: str) -> list[tuple[str, list[Any]]]:
    """``(distribution, records)`` of every plugin implementing the registration hook
    ``hook_name``, in load order; a plugin whose hook returns anything but a list of valid
    records of its type is left out of that hook, with one warning naming what is wrong."""
    return call_hook(hook_name, records_of(_RECORD_TYPES[hook_name]))


def session_hooks(config: Any) -> list[Any]:
    """The SessionRunHooks every plugin adds to a run of ``config`` (``mox_session_hooks``),
    in load order. Each item must be a ``tf.compat.v1.train.SessionRunHook``; a plugin whose
    hook raises or returns anything else is left out with one warning, and the run goes on."""
    import tensorflow as tf  # a run has loaded it; listings never get here

    check = list_of(tf.compat.v1.train.SessionRunHook, "tf.compat.v1.train.SessionRunHook")
    return [hook for _, hooks in call_hook("mox_session_hooks", check, config=config)
            for hook in hooks]


_RECORD_TYPES = RECORD_TYPES
_HOOK_OF_RECORD = {record_type: hook for hook, record_type in _RECORD_TYPES.items()}

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

#: registry kind -> the catalog of which distribution owns which of its names
_CATALOGS = {"networks": distribution_for_network, "dataset_readers": distribution_for_reader}


def _build_registry(state: _State, kind: str) -> Registry:
    """The registry of ``kind`` from every plugin's records. A name belongs to the core when
    the core registers it, else to the distribution the catalog lists for it; another
    distribution registering it is left out with a warning telling it to rename. Two other
    distributions registering one name make that name unusable, with a warning naming both."""
    word, hook_name = _KINDS[kind]
    hint, known = _HINTS.get(kind, (None, ()))
    found = contributions(hook_name)
    core_names = {record.name for distribution, records in found
                  if distribution == CORE_DISTRIBUTION for record in records}
    catalog = _CATALOGS.get(kind, lambda name: None)

    def owner(name: str) -> str | None:
        return CORE_DISTRIBUTION if name in core_names else catalog(name)

    built = Registry(word, found, missing_hint=hint, known_names=known, owner=owner)
    infos = {info.distribution: info for info in reversed(state.infos)}
    for name, distribution, owning in built.refused:
        whose = "the core's" if owning == CORE_DISTRIBUTION else f"{owning!r}'s (mox's catalog)"
        _problem(infos[distribution],
                 f"its {word} {name!r} is left out: that name is {whose}; rename yours",
                 PluginConflictWarning)
    for name, distributions in built.conflicts.items():
        message = built.conflict_message(name)
        for distribution in distributions[1:]:
            infos[distribution].problems.append(message)
        _problem(infos[distributions[0]], message, PluginConflictWarning)  # one warning
    return built


def registry(kind: str) -> Registry:
    """The registry of one kind: ``networks``, ``preprocessing``, ``optimizers``,
    ``dataset_readers``, ``datasets``, ``filesystems`` or ``flags``."""
    if kind not in _KINDS:
        raise ValueError(f"unknown registry {kind!r}; expected one of {', '.join(_KINDS)}")
    state = _ensure()
    with _lock:
        if kind not in state.registries:
            state.registries[kind] = _build_registry(state, kind)
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
