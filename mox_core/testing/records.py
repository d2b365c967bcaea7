"""Whether one registered record is sane: its code target loads, its metadata makes sense.

:func:`check_record` is what :func:`mox_core.testing.check_plugin_registrations` runs on every
record a distribution registers; a new record kind, or a new field of one, is checked here.
"""

from __future__ import annotations

from typing import Any

from mox_core import plugins
from mox_core.registry import resolve

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
    """Check ``record`` of registry ``kind``; ``what`` names it in the failure message."""
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
    """A network's metadata: arg scope, image size, labels offset, logits pattern,
    preprocessing."""
    if record.arg_scope is not None:
        check_target(what, "arg_scope", record.arg_scope)
    size = record.default_image_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise AssertionError(f"{what}: default_image_size must be a positive int, got {size!r}")
    offset = record.default_labels_offset
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise AssertionError(f"{what}: default_labels_offset must be an int >= 0 (1 for 1000 "
                             f"ImageNet classes without background), got {offset!r}")
    if not isinstance(record.default_logits_pattern, str) or not record.default_logits_pattern:
        raise AssertionError(f"{what}: default_logits_pattern must be a non-empty string naming "
                             f"the logits layer's variables, got {record.default_logits_pattern!r}")
    pipelines = plugins.registry("preprocessing")
    if record.preprocessing is not None and record.preprocessing not in pipelines:
        raise AssertionError(
            f"{what}: its preprocessing {record.preprocessing!r} is not a registered pipeline; "
            f"registered: {', '.join(pipelines.names())}"
        )
