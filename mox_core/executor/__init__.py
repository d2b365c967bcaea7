"""The executor's namespace (``moxing.tensorflow.executor`` in MoXing's API).

It holds the run flags and run-mode constants that MoXing documents under this path; ``run``,
``ModelSpec`` and the session hooks join them with the executor itself.
"""

from mox_core.constants import ExportKeys, ModeKeys
from mox_core.flags import get_flag, set_flag

__all__ = ["ExportKeys", "ModeKeys", "get_flag", "set_flag"]
