"""One module per ``perchead`` subcommand; each exposes ``register(subparsers)`` and ``run(args)``."""
