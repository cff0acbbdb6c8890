#!/usr/bin/env bash
# On the GPU machine: install the carried gsplat wheel and this package, reusing a carried
# gsplat build (.gpu/gsplat_ext.tgz) when present so the CUDA kernels need not recompile.
set -euo pipefail
cd "$(dirname "$0")/.."
export TORCH_EXTENSIONS_DIR=/tmp/torch_ext
python3 -m pip install -q --no-deps .gpu/wheels/gsplat-1.5.3-py3-none-any.whl 2>&1 | grep -v WARNING || true
python3 -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | grep -v WARNING || true
if [ -f .gpu/gsplat_ext.tgz ]; then
  tar xzf .gpu/gsplat_ext.tgz -C /tmp
  # freshly installed sources are newer than the carried objects: age them so ninja sees no work
  find "$(python3 -c 'import gsplat, os; print(os.path.dirname(gsplat.__file__))')" -type f -exec touch -d '2020-01-01' {} +
fi
t0=$(date +%s)
python3 -c "from gsplat.cuda._backend import _C; assert _C is not None" 2>&1 | tail -2
echo "gsplat ready in $(( $(date +%s) - t0 )) s"
