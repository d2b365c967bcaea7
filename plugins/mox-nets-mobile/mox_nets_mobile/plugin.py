"""The mox-nets-mobile plugin module (entry point ``mobile`` in group ``mox``).

It registers no network yet: MobileNet v1/v2 and NASNet/PNASNet are tracked by their own issue.
Until then ``mox plugins`` lists this plugin with nothing registered, and asking for one of its
networks gives the core's "unknown network" error.
"""
