"""TF-Slim's ``tfexample_decoder``: turning a serialized ``tf.train.Example`` into named items.

``keys_to_features`` says how to parse the record (``{'image/encoded': tf.io.FixedLenFeature(
(), tf.string), ...}``); ``items_to_handlers`` says how each item the reader hands out is made
from the parsed features (``{'image': Image(), 'label': Tensor('image/class/label')}``)::

    decoder = slim.tfexample_decoder.TFExampleDecoder(keys_to_features, items_to_handlers)
    image, label = decoder.decode(serialized, ['image', 'label'])

The handlers and their arguments are TF-Slim's. Unlike TF-Slim, a handler that needs a feature
``keys_to_features`` does not parse is an error when the decoder is built, naming both, rather
than a ``KeyError`` while decoding; and ``Image`` decodes with ``tf.io.decode_image``
(JPEG, PNG, GIF's first frame, BMP) whatever the format string says, except ``raw``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import tensorflow as tf

tf1 = tf.compat.v1

__all__ = [
    "BoundingBox",
    "DataDecoder",
    "Image",
    "ItemHandler",
    "ItemHandlerCallback",
    "LookupTensor",
    "TFExampleDecoder",
    "Tensor",
]

_FEATURE_TYPES = (tf.io.FixedLenFeature, tf.io.VarLenFeature, tf.io.FixedLenSequenceFeature,
                  tf.io.SparseFeature, tf.io.RaggedFeature)


class ItemHandler:
    """Makes one item from parsed features. ``keys`` are the features it reads;
    subclasses implement ``tensors_to_item({key: tensor}) -> tensor``."""

    def __init__(self, keys: str | Sequence[str]) -> None:
        keys = [keys] if isinstance(keys, str) else list(keys)
        if not keys or not all(isinstance(key, str) for key in keys):
            raise ValueError(f"{type(self).__name__}: keys must be feature names, got {keys!r}")
        self._keys = keys

    @property
    def keys(self) -> list[str]:
        """The feature keys this handler reads."""
        return self._keys

    def tensors_to_item(self, keys_to_tensors: Mapping[str, Any]) -> Any:
        """The item made of ``keys_to_tensors`` (the parsed features named in ``keys``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement tensors_to_item")


class ItemHandlerCallback(ItemHandler):
    """An item computed by ``func({key: tensor})`` from the features ``keys``."""

    def __init__(self, keys: str | Sequence[str], func: Callable[[dict], Any]) -> None:
        super().__init__(keys)
        if not callable(func):
            raise TypeError(f"ItemHandlerCallback: func must be callable, got {func!r}")
        self._func = func

    def tensors_to_item(self, keys_to_tensors: Mapping[str, Any]) -> Any:
        """``func`` applied to the parsed features."""
        return self._func(dict(keys_to_tensors))


class Tensor(ItemHandler):
    """One feature as it is, or reshaped.

    ``shape`` (a static shape, e.g. ``[75, 75]`` for a ``FixedLenFeature([5625])``, or ``[]``
    for a ``FixedLenFeature([1])``) or ``shape_keys`` (features holding the dimensions, read
    per record) reshape it; a sparse feature (``VarLenFeature``) is made dense, filling with
    ``default_value``.
    """

    def __init__(self, tensor_key: str, shape_keys: str | Sequence[str] | None = None,
                 shape: Sequence[int] | None = None, default_value: Any = 0) -> None:
        if shape_keys and shape is not None:
            raise ValueError("Tensor: give shape_keys or shape, not both")
        if isinstance(shape_keys, str):
            shape_keys = [shape_keys]
        self._tensor_key = tensor_key
        self._shape_keys = list(shape_keys or [])
        self._shape = None if shape is None else list(shape)
        self._default_value = default_value
        super().__init__([tensor_key] + self._shape_keys)

    def tensors_to_item(self, keys_to_tensors: Mapping[str, Any]) -> Any:
        """The feature, reshaped to ``shape`` / the ``shape_keys`` values, densified."""
        tensor = keys_to_tensors[self._tensor_key]
        shape: Any = self._shape
        if self._shape_keys:
            dims = []
            for key in self._shape_keys:
                dim = keys_to_tensors[key]
                if isinstance(dim, tf.SparseTensor):
                    dim = tf.sparse.to_dense(dim)
                dims.append(dim)
            shape = tf.reshape(tf.stack(dims), [-1])
        if isinstance(tensor, tf.SparseTensor):
            if shape is not None:
                tensor = tf.sparse.reshape(tensor, shape)
            return tf.sparse.to_dense(tensor, self._default_value)
        if shape is not None:
            tensor = tf.reshape(tensor, shape)
        return tensor


class LookupTensor(Tensor):
    """A :class:`Tensor` of strings mapped through ``table`` (a ``tf.lookup`` table), e.g.
    class names to ids. The reader then needs an initialized table: ``mox.run`` and every
    ``MonitoredSession`` initialize tables; in a plain session run
    ``tf.compat.v1.tables_initializer()``."""

    def __init__(self, tensor_key: str, table: Any, shape_keys: str | Sequence[str] | None = None,
                 shape: Sequence[int] | None = None, default_value: Any = "") -> None:
        if not hasattr(table, "lookup"):
            raise TypeError(f"LookupTensor: table must be a tf.lookup table, got {table!r}")
        self._table = table
        super().__init__(tensor_key, shape_keys, shape, default_value)

    def tensors_to_item(self, keys_to_tensors: Mapping[str, Any]) -> Any:
        """The looked-up values."""
        return self._table.lookup(super().tensors_to_item(keys_to_tensors))


class BoundingBox(ItemHandler):
    """Boxes ``[num_boxes, 4]`` from four variable-length features, in the order of ``keys``
    (default ``ymin, xmin, ymax, xmax``), each prefixed with ``prefix`` (e.g.
    ``'image/object/bbox/'``)."""

    def __init__(self, keys: Sequence[str] | None = None, prefix: str = "") -> None:
        keys = list(keys) if keys is not None else ["ymin", "xmin", "ymax", "xmax"]
        if len(keys) != 4:
            raise ValueError(f"BoundingBox: keys must name 4 coordinates, got {keys!r}")
        self._prefix = prefix
        self._full_keys = [prefix + key for key in keys]
        super().__init__(self._full_keys)

    def tensors_to_item(self, keys_to_tensors: Mapping[str, Any]) -> Any:
        """The ``[num_boxes, 4]`` boxes."""
        sides = []
        for key in self._full_keys:
            side = keys_to_tensors[key]
            if isinstance(side, tf.SparseTensor):
                side = side.values
            sides.append(tf.expand_dims(side, 0))
        return tf.transpose(tf.concat(sides, 0))


class Image(ItemHandler):
    """An image decoded from its encoded bytes (``image_key``, default ``image/encoded``).

    ``format_key`` (default ``image/format``) names the format: ``raw``/``RAW`` bytes are
    reinterpreted as ``dtype`` and need ``shape``; anything else is decoded with
    ``tf.io.decode_image`` to ``channels`` channels (JPEG, PNG, GIF, BMP, whatever the string
    says) and cast to ``dtype``. ``shape`` reshapes the result (and makes it static, which
    batching needs); without it the image is ``[None, None, channels]``. ``repeated``: the
    feature holds several images, decoded one by one into ``[n, ...]``. ``dct_method`` is
    accepted for TF-Slim compatibility and used for JPEG files.
    """

    def __init__(self, image_key: str | None = None, format_key: str | None = None,
                 shape: Sequence[int] | None = None, channels: int = 3, dtype: Any = tf.uint8,
                 repeated: bool = False, dct_method: str = "") -> None:
        image_key = image_key or "image/encoded"
        format_key = format_key or "image/format"
        if channels not in (0, 1, 3, 4):
            raise ValueError(f"Image: channels must be 0 (as stored), 1, 3 or 4, got {channels!r}")
        super().__init__([image_key, format_key])
        self._image_key = image_key
        self._format_key = format_key
        self._shape = None if shape is None else list(shape)
        self._channels = channels
        self._dtype = tf.as_dtype(dtype)
        self._repeated = bool(repeated)
        self._dct_method = dct_method

    def tensors_to_item(self, keys_to_tensors: Mapping[str, Any]) -> Any:
        """The decoded image (or images, when ``repeated``)."""
        buffer = keys_to_tensors[self._image_key]
        image_format = keys_to_tensors[self._format_key]
        if self._repeated:
            return tf.map_fn(lambda one: self._decode(one, image_format), buffer,
                             fn_output_signature=self._dtype)
        return self._decode(buffer, image_format)

    def _decode(self, buffer: Any, image_format: Any) -> Any:
        dtype, channels, shape = self._dtype, self._channels, self._shape

        def decode_raw():
            if shape is None:
                raise ValueError("Image: records in 'raw' format need shape=[height, width, "
                                 "channels] (raw bytes carry no size)")
            return tf.reshape(tf.io.decode_raw(buffer, dtype), shape)

        def decode_encoded():
            if dct_method := self._dct_method:
                image = tf.cond(tf.io.is_jpeg(buffer),
                                lambda: tf.io.decode_jpeg(buffer, channels, dct_method=dct_method),
                                lambda: tf.io.decode_image(buffer, channels,
                                                           expand_animations=False))
            else:
                image = tf.io.decode_image(buffer, channels, expand_animations=False)
            image = tf.cast(image, dtype) if image.dtype != dtype else image
            image.set_shape([None, None, channels or None])
            return tf.reshape(image, shape) if shape is not None else image

        is_raw = tf.logical_or(tf.equal(image_format, "raw"), tf.equal(image_format, "RAW"))
        if shape is None:  # raw needs a shape: only encoded images are possible
            return decode_encoded()
        image = tf.cond(is_raw, decode_raw, decode_encoded)
        image.set_shape(shape)
        return image


def _check_features(keys_to_features: Any) -> dict:
    if not isinstance(keys_to_features, Mapping) or not keys_to_features:
        raise ValueError(f"keys_to_features must be a non-empty dict of feature name -> "
                         f"tf.io.FixedLenFeature / VarLenFeature / ..., got {keys_to_features!r}")
    for key, feature in keys_to_features.items():
        if not isinstance(feature, _FEATURE_TYPES):
            raise TypeError(f"keys_to_features[{key!r}] must be a tf.io.FixedLenFeature, "
                            f"VarLenFeature, FixedLenSequenceFeature, SparseFeature or "
                            f"RaggedFeature; got {feature!r}")
    return {key: _portable(feature) for key, feature in keys_to_features.items()}


def _portable(feature: Any) -> Any:
    """A feature whose eager-tensor ``default_value`` (``tf.zeros([1], tf.int64)`` written at
    module level, which on TF 1 was a graph constant) is held as a NumPy value, so that any graph
    can use it."""
    default = getattr(feature, "default_value", None)
    eager = isinstance(default, tf.Tensor) and hasattr(default, "numpy")  # graph tensors: no
    if eager and isinstance(feature, (tf.io.FixedLenFeature, tf.io.FixedLenSequenceFeature)):
        return feature._replace(default_value=default.numpy())
    return feature


def _check_handlers(items_to_handlers: Any, features: dict) -> dict:
    if not isinstance(items_to_handlers, Mapping) or not items_to_handlers:
        raise ValueError(f"items_to_handlers must be a non-empty dict of item name -> "
                         f"tfexample_decoder handler (Tensor, Image, ...), got "
                         f"{items_to_handlers!r}")
    for item, handler in items_to_handlers.items():
        if not isinstance(handler, ItemHandler):
            raise TypeError(f"items_to_handlers[{item!r}] must be a tfexample_decoder handler "
                            f"(Tensor, Image, ItemHandlerCallback, ...), got {handler!r}")
        missing = [key for key in handler.keys if key not in features]
        if missing:
            raise ValueError(
                f"item {item!r} ({type(handler).__name__}) reads feature(s) "
                f"{', '.join(map(repr, missing))}, which keys_to_features does not parse "
                f"(it parses {', '.join(map(repr, features))}); add them, e.g. "
                f"{missing[0]!r}: tf.io.FixedLenFeature((), tf.string, default_value='')"
            )
    return dict(items_to_handlers)


class DataDecoder:
    """TF-Slim's decoder interface: ``decode(data, items)`` and ``list_items()``."""

    def decode(self, data: Any, items: Sequence[str] | None = None) -> list:
        """The tensors of ``items`` decoded from ``data``."""
        raise NotImplementedError(f"{type(self).__name__} must implement decode")

    def list_items(self) -> list[str]:
        """The item names ``decode`` can produce."""
        raise NotImplementedError(f"{type(self).__name__} must implement list_items")


class TFExampleDecoder(DataDecoder):
    """Decodes serialized ``tf.train.Example`` records into items (see the module docstring)."""

    def __init__(self, keys_to_features: Mapping[str, Any],
                 items_to_handlers: Mapping[str, ItemHandler]) -> None:
        self._keys_to_features = _check_features(keys_to_features)
        self._items_to_handlers = _check_handlers(items_to_handlers, self._keys_to_features)

    @property
    def keys_to_features(self) -> dict:
        """How a record is parsed: feature name -> ``tf.io`` feature description."""
        return dict(self._keys_to_features)

    @property
    def items_to_handlers(self) -> dict:
        """How each item is made: item name -> handler."""
        return dict(self._items_to_handlers)

    def list_items(self) -> list[str]:
        """The item names, in ``items_to_handlers`` order."""
        return list(self._items_to_handlers)

    def decode(self, serialized_example: Any, items: Sequence[str] | None = None) -> list:
        """A list with the tensor of each of ``items`` (all items when ``None``), in order, from
        one serialized example (a scalar string tensor). An unknown item is a ``ValueError``
        listing the known ones."""
        if isinstance(items, str):
            items = [items]
        items = self.list_items() if not items else list(items)
        unknown = [item for item in items if item not in self._items_to_handlers]
        if unknown:
            raise ValueError(f"unknown item(s) {', '.join(map(repr, unknown))}; the decoder "
                             f"has {', '.join(map(repr, self.list_items()))}")
        example = tf.io.parse_single_example(serialized_example, self._keys_to_features)
        outputs = []
        for item in items:
            handler = self._items_to_handlers[item]
            outputs.append(handler.tensors_to_item({key: example[key] for key in handler.keys}))
        return outputs
