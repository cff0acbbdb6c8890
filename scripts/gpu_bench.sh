#!/usr/bin/env bash
# On the GPU machine (after scripts/gpu_setup.sh): GPU tests, then `perchead bench` with the fast
# decode path and with it turned off (PERCHEAD_EAGER_DECODE=1), so docs/performance.md gets its
# before/after from one machine. Results go to ${OUT:-runs/bench}.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-runs/bench}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1 TORCH_EXTENSIONS_DIR=/tmp/torch_ext
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -m pytest -q -p no:cacheprovider -m gpu tests/test_render.py tests/test_graphed_decode.py 2>&1 | tail -n 15 \
  | tee "$out/gpu_tests.txt"
python3 -m perchead_gui.cli bench --device cuda --json > "$out/bench_cuda.json" 2> "$out/bench_cuda.err"
echo "fast: rc=$?"; grep -E '"(edit_to_frame|orbit_frame|decode|render|style_change|first_frame|gaussians|gpu_peak)' "$out/bench_cuda.json"
PERCHEAD_EAGER_DECODE=1 python3 -m perchead_gui.cli bench --device cuda --json --no-render --no-decode \
  --no-first-frame > "$out/bench_cuda_eager.json" 2> "$out/bench_cuda_eager.err"
echo "eager: rc=$?"; grep -E '"(edit_to_frame|orbit_frame|decode_ms|render_ms)' "$out/bench_cuda_eager.json"
tail -n 3 "$out"/*.err
