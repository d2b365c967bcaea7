"""The core's own plugin modules, registered through the public hooks."""
