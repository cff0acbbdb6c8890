#!/usr/bin/env bash
# Issue-7 quality run on ONE GPU machine (H100/H200): fine-tune base, then edit, inside a wall-time
# budget, then `perchead eval --json` with the new checkpoints; everything to bring back lands in
# runs/quality/collect (never checkpoints/: the device tool's sync would delete files there).
#
#   bash scripts/gpu_quality_run.sh start   # install, preflight, launch detached, then wait (<= WAIT_S)
#   bash scripts/gpu_quality_run.sh wait    # wait until done (<= WAIT_S), printing progress
#
# Each verb is one device `run` call (timeout 600 s). The machine goes back ~30 s after a call
# returns, killing the detached run, so call `wait` again right after each reply until it prints
# "ALL DONE". Every call copies what exists so far into $OUT (<= 8 files, each <= 16 MB):
# base.safetensors, edit.safetensors, eval.json, logs.tgz, status.txt (a file over 16 MB in parts: see collect).
# BASE_CFG / EDIT_CFG pick other recipes (configs/history/*_continue.yaml: a second, shorter fine-tune).
# EDIT_CFG may name several recipes, comma-separated: each trains in turn from the same start and gets its own
# eval (eval_<recipe>.json, edit_<recipe>.safetensors), so a candidate and its control compare on one machine.
# EVAL_SHIPPED=1 first evaluates the shipped checkpoints on this machine (eval_shipped.json), the baseline.
# EVAL_RUNS=0 leaves `perchead eval` of the new checkpoints to the CPU (saves ~2.5 device minutes a run).
# NPROC=N trains on N GPUs of one host (torchrun, DDP over NCCL; each rank makes its own heads, so
# a step sees N x batch_size heads). SKIP_BASE=1 evaluates the shipped base instead of training it; SKIP_EDIT=1
# trains no edit recipe (a base-only session).
# Budgets (env, minutes): BASE_MIN=8, EDIT_MIN=11; DEADLINE_MIN=22.5 from launch to the end of the
# eval (the edit budget shrinks to keep it): about 26 min of machine time in all. Carry: .gpu/wheels .gpu/gsplat_ext.tgz
# .gpu/bank_eval.safetensors and the caption bank each edit recipe names (data.bank).
set -uo pipefail
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$SELF")/.."
export PYTHONUNBUFFERED=1 TORCH_EXTENSIONS_DIR=/tmp/torch_ext
Q=${Q:-runs/quality}
BASE_MIN=${BASE_MIN:-8}
EDIT_MIN=${EDIT_MIN:-11}
DEADLINE_MIN=${DEADLINE_MIN:-22.5}
EVAL_RESERVE_MIN=${EVAL_RESERVE_MIN:-2.5}   # end-of-edit eval + export + perchead eval
WAIT_S=${WAIT_S:-540}
DEVICE=${DEVICE:-cuda}   # cpu + SMOKE=1: the CPU dry run of this whole script (3 steps a stage, 1 eval head)
SMOKE=${SMOKE:-0}
NPROC=${NPROC:-1}
SKIP_BASE=${SKIP_BASE:-0}
EVAL_SHIPPED=${EVAL_SHIPPED:-0}
BENCH=${BENCH:-0}   # 1: after the runs, `perchead bench --device cuda` on the last run's model and on the shipped one
                    # (bench_<recipe>.json, bench_shipped.json, in logs.tgz)
EVAL_RUNS=${EVAL_RUNS:-1}   # 0: no `perchead eval` after each run (the runs' own 16-head eval stays; score on the CPU)
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1  # never NVLink multicast here
if [ "$NPROC" -gt 1 ]; then
  TRAIN=(torchrun --standalone --nproc_per_node "$NPROC" -m perchead_gui.cli -v train)
else
  TRAIN=(python3 -m perchead_gui.cli -v train)
fi
T_CALL=$(date +%s)

status() { echo "$(date +%T) $*" | tee -a "$Q/status.txt"; }

write_config() {  # write_config SRC DEST STAGE MAX_MINUTES RENDER_MODE: the recipe with run-local paths
  python3 - "$@" "$DEVICE" "$SMOKE" <<'EOF'
import sys, yaml
src, dest, stage, minutes, mode, device, smoke = sys.argv[1:8]
q = dest.rsplit("/", 1)[0]
cfg = yaml.safe_load(open(src))
cfg.update(out_dir=f"{q}/{stage}", export=f"{q}/ckpt/{stage}.safetensors", max_minutes=float(minutes), device=device)
cfg.setdefault("data", {})["render_mode"] = mode
if smoke == "1":  # same recipe, a few small steps
    cfg.update(steps=3, batch_size=2, views=2, log_every=1, ckpt_every=2, warmup=1)
    cfg["data"].update(eval_heads=1, engine_gaussians=8000)
open(dest, "w").write(yaml.safe_dump(cfg, sort_keys=False))
EOF
}

collect() {  # copy what exists into $OUT (device tool: <= 8 files, <= 16 MB each)
  mkdir -p "$Q/collect"
  [ "$SKIP_BASE" = 1 ] || { [ -f "$Q/ckpt/base.safetensors" ] && cp "$Q/ckpt/base.safetensors" "$Q/collect/"; }
  [ -f "$Q/ckpt/edit.safetensors" ] && cp "$Q/ckpt/edit.safetensors" "$Q/collect/"
  for d in "$Q"/ckpt_*; do  # several edit recipes: one file each
    [ -f "$d/edit.safetensors" ] && cp "$d/edit.safetensors" "$Q/collect/edit_${d##*/ckpt_}.safetensors"
  done
  # bench_*.json travel in logs.tgz (the device tool brings back 8 files at most)
  for f in "$Q"/eval*.json; do [ -f "$f" ] && cp "$f" "$Q/collect/"; done
  cp "$Q/status.txt" "$Q/collect/" 2>/dev/null
  tar czf "$Q/collect/logs.tgz" --exclude='*.safetensors' --exclude=collect -C "$Q" . 2>/dev/null
  # a file over the device tool's 16 MiB (a 51,200-Gaussian edit model is 16.8 MB) travels in parts:
  # NAME.part-aa, NAME.part-ab, ...; put it together with `cat NAME.part-* > NAME`
  for f in "$Q"/collect/*.safetensors; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -gt 16000000 ] && { split -b 15000000 "$f" "$f.part-" && rm "$f"; }
  done
  if [ -n "${OUT:-}" ]; then cp "$Q"/collect/* "$OUT"/ 2>/dev/null; fi
  ls -la "$Q/collect"
}

progress() {
  tail -n 3 "$Q/status.txt" 2>/dev/null
  for m in "$Q"/*/metrics.jsonl; do
    [ -f "$m" ] && echo "$(basename "$(dirname "$m")"): $(grep '"loss"' "$m" | tail -n 1 | cut -c1-400)"
  done
}

wait_loop() {
  while [ ! -f "$Q/DONE" ] && [ $(( $(date +%s) - T_CALL )) -lt "$WAIT_S" ]; do sleep 20; done
  progress
  collect
  if [ -f "$Q/DONE" ]; then
    echo "ALL DONE"; cat "$Q"/eval*.json 2>/dev/null | head -c 6000 || true  # EVAL_RUNS=0: no eval files, not a failure
  else
    echo "STILL RUNNING: call 'bash scripts/gpu_quality_run.sh wait' again now"
  fi
}

evaluate() {  # evaluate CKPT_DIR OUT_JSON DRAWN_ARGS
  status "eval $1 start"
  python3 -m perchead_gui.cli eval --json --device "$DEVICE" --checkpoint "$1" $3 \
    --bank .gpu/bank_eval.safetensors > "$2.tmp" 2> "${2%.json}.log"
  local rc=$?
  [ $rc -eq 0 ] && mv "$2.tmp" "$2"
  status "eval $1 end rc=$rc"
}

train_stage() {  # train_stage CONFIG NAME MINUTES CHECKPOINT SHIPPED: one recipe, its fp16 export at CHECKPOINT
  write_config "$1" "$Q/$2.yaml" "$2" "$3" "$mode"
  sed -i "s#^export: .*#export: $4#" "$Q/$2.yaml"
  status "$2 start (max $3 min, render $mode, $NPROC GPU)"
  "${TRAIN[@]}" "$Q/$2.yaml" > "$Q/$2.log" 2>&1
  status "$2 end rc=$?"
  if [ ! -f "$4" ]; then
    status "$2 produced no checkpoint: evaluating the shipped one ($5) instead"
    cp "$5" "$4"
  fi
}

run_all() {  # the detached part: base, then each edit recipe with its eval
  local t0 rc mode
  t0=$(date +%s)
  mode=$(cat "$Q/render_mode")
  mkdir -p "$Q/ckpt"
  if [ "$SKIP_BASE" = 1 ]; then
    status "base not trained (SKIP_BASE=1): the shipped base is evaluated"
    cp checkpoints/base.safetensors "$Q/ckpt/base.safetensors"
  else
    train_stage "${BASE_CFG:-configs/base.yaml}" base "$BASE_MIN" "$Q/ckpt/base.safetensors" checkpoints/base.safetensors
  fi
  local drawn=""
  [ "${SKIP_EDIT:-0}" = 1 ] || python3 -c "import sys; from models.style.train.bank import load_bank; from models.evaluation.drawn_maps import drawn_prompts
have = set(load_bank('.gpu/bank_eval.safetensors').captions); sys.exit(0 if set(drawn_prompts()) <= have else 3)"
  case $? in  # 3: a bank without the drawn-map prompts; anything else non-zero: the check itself failed (say so)
    0) ;;
    3) drawn="--drawn 0"; status "the eval bank lacks the drawn-map prompts: edit_front_iou_drawn left to the CPU" ;;
    *) drawn="--drawn 0"; status "checking the eval bank failed (see above): edit_front_iou_drawn left to the CPU" ;;
  esac
  [ "$SMOKE" = 1 ] && drawn="--drawn 5 --heads 1"
  if [ "$EVAL_SHIPPED" = 1 ]; then
    evaluate checkpoints "$Q/eval_shipped.json" "$drawn"
  fi
  local cfgs runs_left edit_min cfg name ckpt
  IFS=',' read -ra cfgs <<< "${EDIT_CFG:-configs/edit.yaml}"
  [ "${SKIP_EDIT:-0}" = 1 ] && { cfgs=(); status "edit not trained (SKIP_EDIT=1)"; }
  runs_left=${#cfgs[@]}
  for cfg in "${cfgs[@]}"; do
    if [ ${#cfgs[@]} -eq 1 ]; then name=edit; ckpt="$Q/ckpt"; else name=$(basename "$cfg" .yaml); ckpt="$Q/ckpt_$name"; fi
    mkdir -p "$ckpt"
    [ "$ckpt" = "$Q/ckpt" ] || cp "$Q/ckpt/base.safetensors" "$ckpt/base.safetensors"
    # each run's share of what is left before the deadline, after the evals still to come
    edit_min=$(python3 -c "e=(${DEADLINE_MIN} - (($(date +%s) - $t0) / 60) - ${EVAL_RESERVE_MIN} * ${EVAL_RUNS} * $runs_left) / $runs_left; print(max(1.0, min(${EDIT_MIN}, e)))")
    train_stage "$cfg" "$name" "$edit_min" "$ckpt/edit.safetensors" checkpoints/edit.safetensors
    cp checkpoints/style.safetensors "$ckpt/style.safetensors"
    if [ "$EVAL_RUNS" = 0 ]; then status "edit $name: perchead eval left to the CPU (EVAL_RUNS=0)"
    elif [ "$ckpt" = "$Q/ckpt" ]; then evaluate "$ckpt" "$Q/eval.json" "$drawn"; else evaluate "$ckpt" "$Q/eval_$name.json" "$drawn"; fi
    runs_left=$((runs_left - 1))
  done
  if [ "$BENCH" = 1 ] && [ "$DEVICE" = cuda ] && [ -n "${ckpt:-}" ]; then  # the last run's model, then the shipped one
    cp checkpoints/feature_net.safetensors "$ckpt/" 2>/dev/null
    status "bench $name start"
    python3 -m perchead_gui.cli bench --device cuda --json --checkpoint "$ckpt" > "$Q/bench_$name.json" 2> "$Q/bench_$name.err"
    status "bench $name end rc=$?"
    python3 -m perchead_gui.cli bench --device cuda --json > "$Q/bench_shipped.json" 2> "$Q/bench_shipped.err"
    status "bench shipped end rc=$?"
  fi
  status "total $(( ($(date +%s) - t0) / 60 )) min"
  touch "$Q/DONE"
}

case "${1:-start}" in
  start)
    if [ -f "$Q/launched" ]; then echo "already launched: waiting"; wait_loop; exit 0; fi
    mkdir -p "$Q"
    if [ "$DEVICE" = cuda ]; then
      nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$Q/gpu.txt"
      bash scripts/gpu_setup.sh 2>&1 | tee "$Q/setup.log" | tail -n 3
    fi
    python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$Q/gpu.txt"
    banks=$(python3 -c "import sys, yaml; print(' '.join(sorted({yaml.safe_load(open(c))['data']['bank'] for c in sys.argv[1].split(',')})))" "${EDIT_CFG:-configs/edit.yaml}")
    for f in $banks .gpu/bank_eval.safetensors checkpoints/style.safetensors; do
      [ "${SKIP_EDIT:-0}" = 1 ] && break  # a base-only session needs no caption bank or style model
      [ -f "$f" ] || { status "missing $f: carry it (see the header)"; exit 2; }
    done
    # preflight: the one-launch training render must equal the per-head path (values and gradients)
    if python3 -m pytest -q -x -p no:cacheprovider -m gpu tests/test_training.py -k batched_gsplat > "$Q/preflight.log" 2>&1; then
      echo batched > "$Q/render_mode"
    else
      echo per_head > "$Q/render_mode"
    fi
    status "preflight: render mode $(cat "$Q/render_mode") ($(tail -n 1 "$Q/preflight.log"))"
    touch "$Q/launched"
    setsid nohup bash "$SELF" _run > "$Q/runner.log" 2>&1 < /dev/null &
    status "launched (pid $!)"
    wait_loop
    ;;
  wait)
    if [ ! -f "$Q/launched" ]; then
      echo "nothing launched on this machine (a fresh one: the last went back?): run 'start' again"; exit 3
    fi
    wait_loop ;;
  _run) run_all ;;
  collect) collect ;;
  *) echo "usage: $0 start|wait|collect" >&2; exit 2 ;;
esac
