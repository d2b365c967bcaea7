"""The executor (``moxing.tensorflow.executor``): ``run`` and what ``model_fn`` returns.

``run`` drives TRAIN / EVAL / PREDICT / EXPORT; ``ModelSpec`` and ``ExportSpec`` are what
``model_fn`` returns; ``get_collection`` and ``var_scope`` are for use inside ``model_fn``; the
hooks are MoXing's session hooks. The run flags and mode constants live here too, as in MoXing.
"""

from mox_core.constants import ExportKeys, ModeKeys
from mox_core.executor.hooks import (
    AggregativeSessionRunHook,
    BestModelHook,
    EarlyStoppingHook,
    FeedSessionRunHook,
    LogEvaluationMetricHook,
    PlateauLREarlyStoppingHook,
)
from mox_core.executor.runner import run
from mox_core.executor.specs import ExportSpec, ModelSpec
from mox_core.executor.towers import get_collection, var_scope
from mox_core.flags import get_flag, set_flag

__all__ = [
    "AggregativeSessionRunHook",
    "BestModelHook",
    "EarlyStoppingHook",
    "ExportKeys",
    "ExportSpec",
    "FeedSessionRunHook",
    "LogEvaluationMetricHook",
    "ModeKeys",
    "ModelSpec",
    "PlateauLREarlyStoppingHook",
    "get_collection",
    "get_flag",
    "run",
    "set_flag",
    "var_scope",
]
