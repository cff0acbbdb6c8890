"""PercHead Studio: the desktop app, its inference engine, and the ``perchead`` command line."""
