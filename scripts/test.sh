#!/usr/bin/env bash
# Install what the tests need on a fresh Debian machine with Python 3.11, then run the whole suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k ply).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/setup_env.sh" "test"
# The desktop window's tests run the real window on a virtual X display.
source "$root/scripts/install_xvfb.sh"
# The third-party reader check uses PlayCanvas' splat-transform from the npm registry.
if command -v npm >/dev/null 2>&1 && [ ! -x .cache/npm/node_modules/.bin/splat-transform ]; then
  npm install --prefix .cache/npm --no-audit --no-fund --silent "@playcanvas/splat-transform@2" >/dev/null 2>&1 \
    || echo "perchead: could not install splat-transform; its test will try again" >&2
fi
exec python -m pytest -q "$@"
