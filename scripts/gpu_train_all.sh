#!/usr/bin/env bash
# Train every shipped model on one GPU machine, in order: feature net, style, base, edit.
# Each stage logs to runs/<stage>.log; runs/status.txt says where it is; runs/DONE marks the end.
# Start it detached (setsid) so it outlives the command that launched it.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
mkdir -p runs
status() { echo "$(date +%T) $*" >> runs/status.txt; }
stage() {
  status "start $1"
  python3 -m perchead_gui.cli -v train "configs/$1.yaml" > "runs/$1.log" 2>&1
  local rc=$?
  status "end $1 rc=$rc"
  return $rc
}
stages=("${@:-feature style base edit}")
rc=0
for s in ${stages[@]}; do stage "$s" || { rc=$?; break; }; done
status "all done rc=$rc"
touch runs/DONE
