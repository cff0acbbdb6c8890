"""PercHead models: Gaussians, cameras, renderers, file formats, networks and the head engine.

This package never imports ``perchead_gui``: the app depends on the models, not the reverse.
"""
