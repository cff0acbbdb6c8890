#!/usr/bin/env bash
# Measured: on one GPU, the live path's GPU tests, `perchead bench` with region following on (fit) and off (outline), the fit's step timings and `perchead eval`. Result: docs/performance.md "Seventh session" and "Eighth session"; docs/quality.md "Following the painted regions".
# On the GPU machine: the GPU tests of the live path (region following's CUDA graph included), then
# `perchead bench` with the app's fit (region following on) and with `--silhouette outline` (off), twice
# each, alternating, so docs/performance.md gets the cost of the step from one machine; then `perchead eval`
# on the GPU. Results go to ${OUT:-runs/bench}.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-runs/bench}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1 TORCH_EXTENSIONS_DIR=/tmp/torch_ext
bash scripts/gpu_setup.sh > "$out/setup.txt" 2>&1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -m pytest -q -p no:cacheprovider -m gpu tests/test_region_follow.py tests/test_graphed_decode.py \
  tests/test_render.py tests/test_gui_engine.py 2>&1 | tail -n 15 | tee "$out/gpu_tests.txt"
for run in 1 2; do
  for mode in fit outline; do
    python3 -m perchead_gui.cli bench --device cuda --json --no-render --no-decode --no-first-frame \
      --silhouette "$mode" > "$out/bench_${mode}_$run.json" 2> "$out/bench_${mode}_$run.err"
    echo "$mode $run: rc=$?"; grep -E '"(edit_to_|orbit_frame|decode_ms|render_ms)' "$out/bench_${mode}_$run.json"
  done
done
python3 experiments/time_region_follow.py --device cuda --size 512 > "$out/follow_parts_512.json" 2> "$out/follow_parts.err"
cat "$out/follow_parts_512.json"
python3 -m perchead_gui.cli eval --json --device cuda --checkpoint checkpoints \
  --bank .gpu/bank_eval.safetensors > "$out/eval_cuda.json" 2> "$out/eval_cuda.log"
echo "eval: rc=$?"; grep -E '"(edit_front_iou|edit_miou|seconds)' "$out/eval_cuda.json"
# few files come back from the device: everything but the bench JSON in one archive
tar czf /tmp/logs.tgz -C "$out" --exclude '*.json' . && mv /tmp/logs.tgz "$out/" && find "$out" -maxdepth 1 \
  -type f ! -name '*.json' ! -name logs.tgz -delete
tar czf /tmp/extra.tgz -C "$out" eval_cuda.json follow_parts_512.json && mv /tmp/extra.tgz "$out/" \
  && rm "$out/eval_cuda.json" "$out/follow_parts_512.json"
