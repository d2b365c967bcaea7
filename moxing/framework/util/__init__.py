"""``moxing.framework.util``: ``compat`` (bytes/str helpers) and ``runtime`` (``reset_logger``)."""
