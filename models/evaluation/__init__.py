"""Evaluation on the engine's fixed benchmark (``perchead eval``)."""
