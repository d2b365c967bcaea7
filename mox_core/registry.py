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
    - ``recipe``: the network's default training recipe. Always ``None`` for now: the slot
      exists so that recipes can be added to records without another change of this type.

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
    """A reader class usable as ``reader_class`` of the raw datasets."""

    name: str
    reader: Target
    description: str = ""
    distribution: str = ""


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A named dataset for ``get_dataset(name, ...)`` / ``get_dataset_meta(name)``.

    ``loader(split_name, dataset_dir, **kwargs)`` returns the dataset object; ``meta`` (a
    callable taking no argument, or a ``"module:attr"`` string) returns its metadata. The
    loader receives ``capacity=`` (MoXing's read-ahead buffer) only when the user gives it to
    ``get_dataset``, so a loader without that parameter keeps working.
    """

    name: str
    loader: Target
    meta: Target
    description: str = ""
    distribution: str = ""


@dataclasses.dataclass(frozen=True)
class FilesystemSpec:
    """A URL scheme (``"obs"``, ``"s3"``) served by a ``mox.file`` backend class."""

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


T = TypeVar("T")

_NATURAL_CHUNK = re.compile(r"(\d+)")


def natural_key(name: str) -> list:
    """Sort key that orders ``resnet_v1_50`` before ``resnet_v1_101``."""
    return [int(tok) if tok.isdigit() else tok for tok in _NATURAL_CHUNK.split(name.lower())]


class RegistrationConflict(RuntimeError):
    """Two distributions registered the same name."""


class Registry(Generic[T]):
    """Name -> record, built once from ``(distribution, records)`` pairs.

    ``kind`` is the human word used in messages ("network", "optimizer", ...).
    ``missing_hint(name)`` may return extra text for a name that is known but not installed
    (e.g. which distribution to ``pip install``); ``known_names`` (such names) are offered as
    close matches too.
    """

    def __init__(
        self,
        kind: str,
        contributions: Iterable[tuple[str, Iterable[T]]],
        missing_hint: Callable[[str], str | None] | None = None,
        known_names: Iterable[str] = (),
    ) -> None:
        self.kind = kind
        self._missing_hint = missing_hint
        self._known_names = tuple(known_names)
        self._records: dict[str, T] = {}
        for distribution, records in contributions:
            for record in records:
                name = record.name  # type: ignore[attr-defined]
                record = dataclasses.replace(record, distribution=distribution)  # type: ignore[type-var]
                previous = self._records.get(name)
                if previous is not None:
                    raise RegistrationConflict(
                        f"{kind} {name!r} is registered twice: by distribution "
                        f"{previous.distribution!r} and by distribution {distribution!r}; "  # type: ignore[attr-defined]
                        f"uninstall one of them"
                    )
                self._records[name] = record

    def __contains__(self, name: object) -> bool:
        return name in self._records

    def __iter__(self) -> Iterator[T]:
        return iter(self._records[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._records)

    def names(self, pattern: str | None = None) -> list[str]:
        """Registered names matching a shell-style ``pattern`` (``'resnet*'``), naturally sorted."""
        names: Iterable[str] = self._records
        if pattern not in (None, "", "*"):
            names = fnmatch.filter(names, pattern)
        return sorted(names, key=natural_key)

    def get(self, name: str) -> T:
        """The record for ``name``; ``ValueError`` listing close matches when it is unknown."""
        try:
            return self._records[name]
        except (KeyError, TypeError):
            pass
        raise ValueError(self.unknown_message(name))

    def unknown_message(self, name: Any) -> str:
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
