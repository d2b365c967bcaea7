"""The mox-datasets-obs plugin module (entry point ``obs`` in group ``mox``).

It registers no URL scheme or reader yet: the obs:// and s3:// backends and the async reader
are tracked by their own issue. Until then ``mox plugins`` lists this plugin with nothing
registered.
"""
