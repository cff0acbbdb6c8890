"""The ``perchead`` command line (contract in shared DESIGN.md).

User mistakes surface as ``PercheadError`` and print one line on stderr with a non-zero exit;
only a bug prints a traceback. Subcommand modules import their heavy dependencies lazily so
``perchead --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# In the window, idle OpenMP threads sleep instead of spinning: the app runs decode, render and
# UI threads on machines with as few as 2 cores (often shared), and with spinning workers a 20 ms
# CPU render was measured at 300 ms under load, with passive ones at 19 ms (docs/performance.md).
# Batch commands keep OpenMP's default (spinning is faster for one busy thread: the torch
# rasteriser 80.8 vs 104.5 ms). Set before torch loads; a value the user exported wins.
if next((a for a in sys.argv[1:] if not a.startswith("-")), None) == "gui":
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Only subcommands that work are listed; each module is perchead_gui/commands/<name>.py.
COMMANDS = ("gui", "render", "edit", "reconstruct", "parse", "synth", "train", "eval", "bench")

EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perchead",
        description="PercHead Studio: sculpt 3D Gaussian heads from segmentation maps and style.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"perchead_gui.commands.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from models.errors import PercheadError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="perchead: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return int(args.func(args) or 0)
    except PercheadError as e:
        print(f"perchead {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"perchead {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
