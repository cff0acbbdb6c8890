"""``perchead gui``: the PercHead Studio window (paint, prompt, orbit, export)."""
from __future__ import annotations

import argparse
from pathlib import Path

VIEW_MODES = ("rgb", "classes", "depth")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the PercHead Studio window",
                       description="Open the editor: paint a seg map, set a style with a prompt or a reference "
                                   "image, orbit the 3D head, export .ply / PNG / turntable. F1 lists the "
                                   "shortcuts. Without a screen, run it under xvfb-run.")
    p.add_argument("--checkpoint", type=Path, default=None, metavar="DIR",
                   help="folder with base/edit/style .safetensors (default: the shipped checkpoints/)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--project", type=Path, default=None, metavar="FILE", help="a .perchead project to open")
    p.add_argument("--sample", default=None, metavar="NAME", help="start from this gallery sample (title or file)")
    p.add_argument("--prompt", default=None, metavar="TEXT", help="style prompt to apply at start")
    p.add_argument("--screenshot", type=Path, default=None, metavar="OUT.png",
                   help="run --frames frames (the first head decoded), save a PNG of the window, exit")
    p.add_argument("--frames", type=int, default=30, help="frames before --screenshot (default 30)")
    p.add_argument("--yaw", type=float, default=None, metavar="DEG", help="start the 3D view at this yaw")
    p.add_argument("--view-mode", default="rgb", choices=VIEW_MODES)
    p.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                   help="folder for autosave and settings (default: $PERCHEAD_STATE_DIR or ~/.local/state/perchead)")
    p.add_argument("--no-restore", action="store_true", help="do not offer to restore an unsaved session")
    p.add_argument("--autosave-seconds", type=float, default=30.0, metavar="S",
                   help="autosave unsaved work every S seconds (default 30)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from models.io.atomic import check_output_path
    from models.errors import PercheadError
    from perchead_gui.app.display import display_problem
    from perchead_gui.app.options import GuiOptions

    if args.project is not None and not args.project.is_file():
        raise PercheadError(f"project {args.project} not found; give the path of a .perchead file")
    if args.screenshot is not None:
        check_output_path(args.screenshot)
    if args.frames < 1:
        raise PercheadError(f"--frames must be at least 1, got {args.frames}")
    if not 0.5 <= args.autosave_seconds <= 3600:
        raise PercheadError(f"--autosave-seconds must be 0.5 to 3600, got {args.autosave_seconds}")
    problem = display_problem()
    if problem is not None:
        raise PercheadError(problem)
    options = GuiOptions(checkpoint=args.checkpoint, device=args.device, project=args.project,
                         screenshot=args.screenshot, frames=args.frames, view_yaw=args.yaw,
                         view_mode=args.view_mode, prompt=args.prompt, sample=args.sample,
                         state_dir=args.state_dir, restore_offer=not args.no_restore,
                         autosave_s=args.autosave_seconds)
    from perchead_gui.app.window import App, exit_process  # imports dearpygui: only once a display works

    app = App(options)
    app.start()
    return exit_process(app, app.run())
