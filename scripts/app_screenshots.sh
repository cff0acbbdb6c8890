#!/usr/bin/env bash
# Screenshots of the real window for docs/app.md (run from the repo root with the venv active).
# Each is `perchead gui --screenshot`: the window opens on a virtual display, runs its frames
# with the first head decoded, saves the whole window and exits.
set -euo pipefail
out="${1:-docs/img/app}"
mkdir -p "$out"
shot() { xvfb-run -a -s "-screen 0 1280x1024x24" perchead gui --device cpu --state-dir "$(mktemp -d)" "$@"; }
shot --sample "Long wavy hair" --screenshot "$out/sample.png"
shot --sample "Long wavy hair" --prompt "platinum blonde hair, blue eyes, fair skin, red sweater" --screenshot "$out/prompt.png"
shot --sample "Long wavy hair" --view-mode classes --screenshot "$out/classes.png"
shot --sample "Long wavy hair" --yaw 90 --screenshot "$out/side.png"
echo "wrote $out/{sample,prompt,classes,side}.png"
