#!/usr/bin/env bash
# Install (first time) and run PercHead Studio's main job.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/setup_env.sh" ""
cd "$root"
# Until the desktop app lands, the main job renders the sample head to a PNG.
perchead render assets/sample_head.ply -o sample_head.png --size 512 "$@"
echo "wrote $root/sample_head.png"
