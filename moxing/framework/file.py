"""``moxing.framework.file`` is the module ``mox_core.file`` itself (one module, not a copy)."""

import sys

import mox_core.file

sys.modules[__name__] = mox_core.file
