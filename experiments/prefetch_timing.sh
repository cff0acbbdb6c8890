#!/usr/bin/env bash
# Issue 24 item 4: training throughput with the batch producer process (data.prefetch) against without, on one GPU.
# Two short runs of one recipe, alike but for data.prefetch; prints heads/s (median of the logged windows after
# the first two) and each run's data share. Run on the GPU machine after scripts/gpu_setup.sh:
#   bash experiments/prefetch_timing.sh configs/history/edit_v2_adv14.yaml 1.2 0 2
# Writes runs/pf<N>/ and runs/prefetch_timing.json (copied to $OUT when set).
set -uo pipefail
cd "$(dirname "$0")/.."
CFG=$1; MINUTES=$2; shift 2
for n in "$@"; do
  python3 - "$CFG" "$MINUTES" "$n" <<'PY'
import sys, yaml
src, minutes, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
cfg = yaml.safe_load(open(src))
cfg.update(out_dir=f"runs/pf{n}", export=f"runs/pf{n}/edit.safetensors", max_minutes=minutes, device="auto")
cfg["data"].update(prefetch=n, eval_heads=1)
open(f"runs/pf{n}.yaml", "w").write(yaml.safe_dump(cfg, sort_keys=False))
PY
  rm -rf "runs/pf$n"
  python3 -m perchead_gui.cli -v train "runs/pf$n.yaml" > "runs/pf$n.log" 2>&1
  echo "prefetch $n: rc=$?"
done
python3 - "$@" <<'PY'
import json, statistics, sys
out = {}
for n in sys.argv[1:]:
    try:
        rows = [json.loads(l) for l in open(f"runs/pf{n}/metrics.jsonl") if '"heads_per_s"' in l]
    except OSError:
        out[n] = {"error": "no metrics (see runs/pf%s.log)" % n}
        continue
    rows = rows[2:] or rows
    out[n] = {"heads_per_s": statistics.median(r["heads_per_s"] for r in rows) if rows else None,
              "data_share": statistics.median(r["data_share"] for r in rows) if rows else None,
              "windows": len(rows), "steps": rows[-1]["step"] if rows else 0}
print(json.dumps(out, indent=1))
json.dump(out, open("runs/prefetch_timing.json", "w"), indent=1)
PY
[ -n "${OUT:-}" ] && cp runs/prefetch_timing.json "$OUT/" && tail -n 5 runs/pf*.log > "$OUT/prefetch_logs.txt"
exit 0
