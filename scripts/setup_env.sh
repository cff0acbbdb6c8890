#!/usr/bin/env bash
# Creates (once) and updates the project's virtual environment in .venv; sourced by run.sh and test.sh.
# A venv keeps us clear of Debian's externally-managed system Python (PEP 668).
# torch is pinned to 2.14.1 + torchvision 0.29.1: open-clip-torch (the optional CLIP style
# backend) needs torchvision, and PyPI's torchvision does not import beside the smaller
# CPU-only torch 2.13.0 build; 2.14.1 is a CUDA build that runs on the CPU as well (and on a
# GPU when one is present). See README "Why this torch".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PERCHEAD_VENV:-$root/.venv}"
extras="${1:-}"
if [ ! -x "$venv/bin/python" ]; then
  echo "perchead: creating $venv" >&2
  python3 -m venv "$venv"
fi
stamp="$venv/.perchead-installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
  echo "perchead: installing dependencies into $venv (first run takes a few minutes)" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$venv/bin/python" -m pip install -q "torch==2.14.1" "torchvision==0.29.1" -e "$root${extras:+[$extras]}"
  touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
