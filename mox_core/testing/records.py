"""Whether one registered record is sane: its code target loads, its metadata makes sense.

:func:`check_record` is what :func:`mox_core.testing.check_plugin_registrations` runs on every
record a distribution registers; a new record kind, or a new field of one, is checked here.
"""

from __future__ import annotations

from typing import Any

from mox_core import plugins
from mox_core.registry import RecordError, resolve, validate_record

#: The field of each record kind that names code (``"module:attribute"`` or a callable).
TARGET_FIELDS = {
    "networks": "builder",
    "preprocessing": "factory",
    "optimizers": "factory",
    "dataset_readers": "reader",
    "datasets": "loader",
    "filesystems": "backend",
}


def check_record(kind: str, what: str, record: Any) -> None:
    """Check ``record`` of registry ``kind``; ``what`` names it in the failure message: every
    field as mox checks it when it collects the record
    (:func:`mox_core.registry.validate_record`), then that its code targets load."""
    try:
        validate_record(record)
    except RecordError as exc:
        raise AssertionError(f"{what}: {exc}") from None
    field = TARGET_FIELDS.get(kind)
    if field is not None:
        check_target(what, field, getattr(record, field))
    if kind == "networks":
        check_network_record(what, record)
    if kind == "datasets":
        check_target(what, "meta", record.meta)


def check_target(what: str, field: str, target: Any) -> None:
    """The record's ``field`` must load (through :func:`mox_core.registry.resolve`) to a
    callable."""
    try:
        obj = resolve(target, what=f"{what} {field}")
    except Exception as exc:
        raise AssertionError(f"{what}: its {field} {target!r} cannot be loaded: "
                             f"{type(exc).__name__}: {exc}") from exc
    if not callable(obj):
        raise AssertionError(f"{what}: its {field} {target!r} is {obj!r}, not callable")


def check_network_record(what: str, record: Any) -> None:
    """A network's arg scope loads and its preprocessing pipeline is registered."""
    if record.arg_scope is not None:
        check_target(what, "arg_scope", record.arg_scope)
    pipelines = plugins.registry("preprocessing")
    if record.preprocessing is not None and record.preprocessing not in pipelines:
        raise AssertionError(
            f"{what}: its preprocessing {record.preprocessing!r} is not a registered pipeline; "
            f"registered: {', '.join(pipelines.names())}"
        )
