"""Typed, lazy registries of what plugins provide.

A registration is a small frozen record. Records that point at code (a network builder, an
optimizer factory, ...) hold either the callable itself or a ``"module:attribute"`` string that
is imported only when the thing is used, so listing every installed network imports no network
module and builds no graph.

Registries are filled once, on first use, from the plugin manager (``mox_core.plugins``); every
record remembers the distribution that registered it, so conflicts and errors can name it.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import importlib
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

Target = str | Callable[..., Any]


def resolve(target: Target, what: str = "object") -> Any:
    """Return the object a ``"package.module:attribute"`` string names (callables pass through).

    Raises ``ImportError`` naming the target when the module or attribute is missing.
    """
    if not isinstance(target, str):
        return target
    module_name, sep, attr_path = target.partition(":")
    if not sep or not module_name or not attr_path:
        raise ValueError(f"{what} target {target!r} must look like 'package.module:attribute'")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ImportError(
                f"{what} target {target!r}: module {module_name!r} has no attribute {attr_path!r}"
            ) from None
    return obj


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """A network that ``get_model_fn(name, ...)`` can build, and everything known about it.

    The record is the one place a network's metadata lives, as TF-Slim's ``nets_factory``
    pairs each net with its ``arg_scope`` and timm keeps a model's ``default_cfg`` beside it:

    - ``builder(images, num_classes, *, is_training, **arch) -> (logits, end_points)`` builds
      the graph in the current ``tf.compat.v1`` graph. ``arch`` are the network's own keywords
      (``dropout_keep_prob``, ``spatial_squeeze``, ``depth_multiplier``, ``scope``, ...), the
      model kwargs of ``get_model_fn``.
    - ``arg_scope(weight_decay=...) -> dict`` returns the family's saved ``arg_scope``
      (initializers, L2 weight decay, activation, batch-norm decay and epsilon), TF-Slim's
      ``*_arg_scope`` convention. ``get_model_fn`` enters it, enters its own options on top
      (:func:`mox_core.nets.net_utils.options_scope`: ``data_format`` on every layer,
      ``is_training``, ``batch_norm_fused`` and ``batch_renorm`` on batch norm and dropout),
      transposes the NHWC input to ``data_format`` and calls the builder: ``images`` arrive in
      that layout, which the builder reads with :func:`mox_core.nets.net_utils.data_format`.
      ``None`` marks a builder that takes the layer options itself: it is called as
      ``builder(images, num_classes, is_training=..., weight_decay=..., data_format=...,
      batch_norm_fused=..., batch_renorm=..., **arch)`` on the NHWC ``images`` and transposes
      for ``data_format`` itself (networks that bring their own layers, like the example
      plugin's).
    - ``default_image_size``, ``default_labels_offset``, ``default_logits_pattern``: what
      ``get_model_meta`` returns (the logits pattern is what a warm start excludes when the
      number of classes changes); ``preprocessing``: the pipeline name of
      ``get_data_augmentation_fn(name, ...)``.
    - ``recipe``: the :class:`mox_core.recipes.Recipe` ``mox train`` uses for the network
      unless the user's options override it; ``None``: :data:`mox_core.recipes.GENERIC`.

    Code targets (``builder``, ``arg_scope``) are callables or ``"module:attribute"`` strings
    resolved on use, so listing networks imports no network module.
    """

    name: str
    builder: Target
    default_image_size: int
    default_labels_offset: int = 0
    default_logits_pattern: str = "logits"
    preprocessing: str | None = None
    description: str = ""
    arg_scope: Target | None = None
    recipe: Any = None
    distribution: str = ""  # filled in by the plugin manager


def network_family(
    package: str,
    arg_scope: str,
    networks: Iterable[tuple[str, str, int, str]],
    **fields: Any,
) -> list[NetworkSpec]:
    """The records of one family of networks, for a plugin's ``mox_networks`` hook.

    ``networks`` are ``(module, name, default_image_size, description)``: each builder is
    ``"<package>.<module>:<name>"``. The family shares ``arg_scope`` (``"module:function"``
    inside ``package``) and ``fields`` (``preprocessing``, ``default_labels_offset``,
    ``default_logits_pattern``, ...). Targets stay strings: nothing is imported.
    """
    return [
        NetworkSpec(
            name=name,
            builder=f"{package}.{module}:{name}",
            arg_scope=f"{package}.{arg_scope}",
            default_image_size=size,
            description=description,
            **fields,
        )
        for module, name, size, description in networks
    ]


@dataclasses.dataclass(frozen=True)
class PreprocessingSpec:
    """A preprocessing pipeline (e.g. ``vgg_preprocessing``).

    ``factory(run_mode, output_height=None, output_width=None, **kwargs)`` returns a function
    that maps one ``[h, w, c]`` image tensor to the network's input.
    """

    name: str
    factory: Target
    description: str = ""
    distribution: str = ""


@dataclasses.dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer ``get_optimizer_fn(name, learning_rate, ...)`` can create.

    ``factory(learning_rate, *args, name=None, **kwargs)`` returns a ``tf.compat.v1.train``
    optimizer instance. ``wrapper=True`` marks an optimizer wrapper (``get_optimizer_wrapper_fn``):
    its factory takes the wrapped optimizer instance first.
    """

    name: str
    factory: Target
    wrapper: bool = False
    description: str = ""
    distribution: str = ""


@dataclasses.dataclass(frozen=True)
class DatasetReaderSpec:
    """A reader class usable as ``reader_class`` of the raw datasets, built as
    ``reader(num_readers=..., capacity=..., **reader_kwargs)`` (the full contract:
    ``mox_core.hookspecs.mox_dataset_readers``)."""

    name: str
    reader: Target
    description: str = ""
    distribution: str = ""


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A named dataset for ``get_dataset(name, ...)`` / ``get_dataset_meta(name)``.

    ``loader(split_name, dataset_dir, **kwargs)`` returns the dataset object; ``meta()`` (or
    ``meta(dataset_dir=...)`` when it takes that parameter) returns its metadata. The loader
    receives ``capacity=`` (MoXing's read-ahead buffer) only when the user gives it to
    ``get_dataset``, so a loader without that parameter keeps working. The full contract,
    with the dataset object's interface: ``mox_core.hookspecs.mox_datasets``.
    """

    name: str
    loader: Target
    meta: Target
    description: str = ""
    distribution: str = ""


@dataclasses.dataclass(frozen=True)
class FilesystemSpec:
    """A URL scheme (``"obs"``, ``"s3"``) served by a ``mox.file`` backend class (a subclass
    of ``mox_core.file.backend.Backend``; its methods: ``mox_core.hookspecs.mox_filesystems``)."""

    name: str  # the scheme, without '://'
    backend: Target
    description: str = ""
    distribution: str = ""


@dataclasses.dataclass(frozen=True)
class FlagSpec:
    """A run flag, defined in absl's flag registry (the one behind ``tf.compat.v1.flags``).

    ``type`` is one of ``"string"``, ``"integer"``, ``"float"``, ``"boolean"``, ``"enum"``;
    ``choices`` lists the values of an enum flag.
    """

    name: str
    type: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    distribution: str = ""


#: The values of ``FlagSpec.type``.
FLAG_TYPES = ("string", "integer", "float", "boolean", "enum")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\Z")
_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_TARGET = re.compile(rf"{_DOTTED}:{_DOTTED}\Z")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_recipe(value: Any) -> bool:
    from mox_core.recipes import Recipe  # imports no TensorFlow

    return isinstance(value, Recipe)


def _is_target(value: Any) -> bool:
    return callable(value) or (isinstance(value, str) and bool(_TARGET.match(value)))


#: check name -> (test of a value, what a value must be)
_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "identifier": (lambda v: isinstance(v, str) and bool(_IDENTIFIER.match(v)),
                   "an identifier (letters, digits and '_', not starting with a digit)"),
    "scheme": (lambda v: isinstance(v, str) and bool(_SCHEME.match(v)),
               "a URL scheme without '://' (lower-case letters, digits, '+', '.', '-')"),
    "target": (_is_target, "a callable or a 'package.module:attribute' string"),
    "target or None": (lambda v: v is None or _is_target(v),
                       "None, a callable or a 'package.module:attribute' string"),
    "positive int": (lambda v: _is_int(v) and v > 0, "a positive int"),
    "int >= 0": (lambda v: _is_int(v) and v >= 0, "an int >= 0"),
    "text": (lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty str"),
    "str": (lambda v: isinstance(v, str), "a str"),
    "identifier or None": (lambda v: v is None or (isinstance(v, str)
                                                   and bool(_IDENTIFIER.match(v))),
                           "None or the name of a registered preprocessing pipeline"),
    "bool": (lambda v: isinstance(v, bool), "True or False"),
    "recipe or None": (lambda v: v is None or _is_recipe(v),
                       "None or a mox_core.recipes.Recipe"),
    "flag type": (lambda v: v in FLAG_TYPES, f"one of {', '.join(map(repr, FLAG_TYPES))}"),
    "choices": (lambda v: isinstance(v, tuple) and all(isinstance(c, str) for c in v),
                "a tuple of str"),
}

#: record type -> field -> check name (a Recipe checks its own fields when it is made)
_FIELD_CHECKS: dict[type, dict[str, str]] = {
    NetworkSpec: {"name": "identifier", "builder": "target", "default_image_size": "positive int",
                  "default_labels_offset": "int >= 0", "default_logits_pattern": "text",
                  "preprocessing": "identifier or None", "description": "str",
                  "arg_scope": "target or None", "recipe": "recipe or None"},
    PreprocessingSpec: {"name": "identifier", "factory": "target", "description": "str"},
    OptimizerSpec: {"name": "identifier", "factory": "target", "wrapper": "bool",
                    "description": "str"},
    DatasetReaderSpec: {"name": "identifier", "reader": "target", "description": "str"},
    DatasetSpec: {"name": "identifier", "loader": "target", "meta": "target",
                  "description": "str"},
    FilesystemSpec: {"name": "scheme", "backend": "target", "description": "str"},
    FlagSpec: {"name": "identifier", "type": "flag type", "help": "text", "choices": "choices"},
}

#: FlagSpec.type -> (test of a default, what it must be)
_FLAG_DEFAULTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (lambda v: isinstance(v, str), "a str"),
    "integer": (_is_int, "an int"),
    "float": (lambda v: _is_int(v) or isinstance(v, float), "a float"),
    "boolean": (lambda v: isinstance(v, bool), "True or False"),
}


#: registration hook -> the record type its implementations return a list of
RECORD_TYPES: dict[str, type] = {
    "mox_networks": NetworkSpec,
    "mox_preprocessing": PreprocessingSpec,
    "mox_optimizers": OptimizerSpec,
    "mox_dataset_readers": DatasetReaderSpec,
    "mox_datasets": DatasetSpec,
    "mox_filesystems": FilesystemSpec,
    "mox_flags": FlagSpec,
}


#: what the fields without a check of their own in ``_FIELD_CHECKS`` must be
_UNCHECKED = {"default": "of the flag's type, or None (an enum flag: one of its choices)"}


def record_fields(record_type: type) -> list[tuple[str, str, str]]:
    """``(field, default, what it must be)`` of each field a plugin fills in, for the
    reference (``distribution`` is mox's to fill in)."""
    checks = _FIELD_CHECKS[record_type]
    rows = []
    for field in dataclasses.fields(record_type):
        if field.name == "distribution":
            continue
        default = ("required" if field.default is dataclasses.MISSING
                   else f"`{field.default!r}`")
        check = checks.get(field.name)
        expected = _CHECKS[check][1] if check else _UNCHECKED.get(
            field.name, f"see {record_type.__name__}'s docstring")
        rows.append((field.name, default, expected))
    return rows


class RecordError(ValueError):
    """A registration record whose field has the wrong type or value."""


def validate_record(record: Any) -> None:
    """Check every field of a registration record; :class:`RecordError` naming the record, the
    field, what it must be and what it is. Nothing is imported: targets are checked for their
    form, :mod:`mox_core.testing` checks that they load."""
    checks = _FIELD_CHECKS.get(type(record))
    if checks is None:
        raise RecordError(f"{record!r:.80} is not a registration record of mox_core.registry")
    name = getattr(record, "name", None)
    what = f"{type(record).__name__} {name!r}"
    for field, check in checks.items():
        test, expected = _CHECKS[check]
        _check_field(what, field, getattr(record, field), test, expected)
    if isinstance(record, FlagSpec):
        _validate_flag(what, record)


def _check_field(what: str, field: str, value: Any, test: Callable[[Any], bool],
                 expected: str) -> None:
    if not test(value):
        raise RecordError(f"{what}: field {field} must be {expected}, "
                          f"got {type(value).__name__} {value!r:.60}")


def _validate_flag(what: str, spec: FlagSpec) -> None:
    if spec.type == "enum":
        if not spec.choices:
            raise RecordError(f"{what}: field choices must list the values of an enum flag, "
                              f"got ()")
        _check_field(what, "default", spec.default, lambda v: v is None or v in spec.choices,
                     f"None or one of its choices {', '.join(map(repr, spec.choices))}")
        return
    if spec.choices:
        raise RecordError(f"{what}: field choices must be () for a flag of type {spec.type!r} "
                          f"(only enum flags have choices), got {spec.choices!r:.60}")
    test, expected = _FLAG_DEFAULTS[spec.type]
    _check_field(what, "default", spec.default, lambda v: v is None or test(v),
                 f"None or {expected} (its type is {spec.type!r})")


T = TypeVar("T")

_NATURAL_CHUNK = re.compile(r"(\d+)")


def natural_key(name: str) -> list:
    """Sort key that orders ``resnet_v1_50`` before ``resnet_v1_101``."""
    return [int(tok) if tok.isdigit() else tok for tok in _NATURAL_CHUNK.split(name.lower())]


class RegistrationConflict(RuntimeError):
    """A name two distributions registered: it is unusable until one of them renames it."""


class Registry(Generic[T]):
    """Name -> record, built once from ``(distribution, records)`` pairs.

    ``kind`` is the human word used in messages ("network", "optimizer", ...).
    ``missing_hint(name)`` may return extra text for a name that is known but not installed
    (e.g. which distribution to ``pip install``); ``known_names`` (such names) are offered as
    close matches too.

    Conflicts are scoped to the name. ``owner(name)`` names the distribution a name belongs to
    (mox's catalog of install hints, the core's own names), or ``None``: the owner keeps its
    name and another distribution's record of it is left out (:attr:`refused`). Two other
    distributions registering one name make that name alone unusable (:attr:`conflicts`):
    :meth:`get` raises :class:`RegistrationConflict` naming both, every other name works.
    """

    def __init__(
        self,
        kind: str,
        contributions: Iterable[tuple[str, Iterable[T]]],
        missing_hint: Callable[[str], str | None] | None = None,
        known_names: Iterable[str] = (),
        owner: Callable[[str], str | None] | None = None,
    ) -> None:
        self.kind = kind
        self._missing_hint = missing_hint
        self._known_names = tuple(known_names)
        self._records: dict[str, T] = {}
        #: name -> the distributions that registered it, when two or more did (none owns it)
        self.conflicts: dict[str, tuple[str, ...]] = {}
        #: ``(name, distribution, owner)``: a record left out because ``owner`` owns the name
        self.refused: list[tuple[str, str, str]] = []
        registered: dict[str, dict[str, T]] = {}
        for distribution, records in contributions:
            for record in records:
                name = record.name  # type: ignore[attr-defined]
                record = dataclasses.replace(record, distribution=distribution)  # type: ignore[type-var]
                registered.setdefault(name, {}).setdefault(distribution, record)
        for name, by_distribution in registered.items():
            owning = owner(name) if owner is not None else None
            if owning is not None:
                self.refused.extend((name, distribution, owning) for distribution in by_distribution
                                    if distribution != owning)
                by_distribution = {dist: rec for dist, rec in by_distribution.items()
                                   if dist == owning}
            if len(by_distribution) > 1:
                self.conflicts[name] = tuple(sorted(by_distribution))
            elif by_distribution:
                self._records[name] = next(iter(by_distribution.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._records

    def __iter__(self) -> Iterator[T]:
        return iter(self._records[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._records)

    def names(self, pattern: str | None = None) -> list[str]:
        """Usable names matching a shell-style ``pattern`` (``'resnet*'``), naturally sorted."""
        names: Iterable[str] = self._records
        if pattern not in (None, "", "*"):
            names = fnmatch.filter(names, pattern)
        return sorted(names, key=natural_key)

    def get(self, name: str) -> T:
        """The record for ``name``; :class:`RegistrationConflict` naming both distributions
        for a name two of them registered; ``ValueError`` listing close matches when it is
        unknown."""
        try:
            return self._records[name]
        except (KeyError, TypeError):
            pass
        if isinstance(name, str) and name in self.conflicts:
            raise RegistrationConflict(self.conflict_message(name))
        raise ValueError(self.unknown_message(name))

    def conflict_message(self, name: str) -> str:
        """Why the conflicting ``name`` cannot be used, and what fixes it."""
        first, *others = self.conflicts[name]
        return (f"{self.kind} {name!r} is registered by distribution {first!r} and by "
                f"{' and by '.join(repr(other) for other in others)}, so neither can be used: "
                f"one of the plugins must rename it (tell their authors); until then, "
                f"uninstall the one you do not use")

    def unknown_message(self, name: Any) -> str:
        if isinstance(name, str) and name in self.conflicts:
            return self.conflict_message(name)
        text = f"unknown {self.kind} {name!r}."
        hint = self._missing_hint(name) if self._missing_hint and isinstance(name, str) else None
        if hint:
            return f"{text} {hint}"
        candidates = list(dict.fromkeys([*self._records, *self._known_names]))
        close = difflib.get_close_matches(str(name), candidates, n=5, cutoff=0.6)
        if close:
            text += f" Did you mean: {', '.join(close)}?"
        installed = self.names()
        if installed:
            text += f" Installed {self.kind}s: {', '.join(installed)}."
        else:
            text += f" No {self.kind} is installed."
        return text
