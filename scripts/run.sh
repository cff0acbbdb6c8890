#!/usr/bin/env bash
# Install (first time) and run PercHead Studio: the desktop window on the shipped checkpoints.
# On a machine without a screen the window runs on a virtual display, and a picture of it is
# saved to perchead_studio.png (on a desktop the same command opens the window).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/setup_env.sh" ""
cd "$root"
if python -c "from perchead_gui.app.display import display_problem as p; raise SystemExit(p() is not None)"; then
  exec perchead gui "$@"
fi
echo "perchead: no display here; running the window on a virtual display and saving a screenshot" >&2
source "$root/scripts/install_xvfb.sh"
xvfb-run -a -s "-screen 0 1280x1024x24" perchead gui --screenshot perchead_studio.png "$@"
echo "wrote $root/perchead_studio.png (a picture of the window; on a desktop this command opens it)"
