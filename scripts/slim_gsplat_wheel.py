"""The carried gsplat wheel without what its CUDA build never reads: the bundled GLM library's documentation and
tests (5.4 of the wheel's 6.5 MB). Every GPU call carries the tracked tree and `.gpu/` within 64 MiB, so these
megabytes are room for checkpoints. The headers under glm/glm/ stay; RECORD is rewritten to list only what is left.

    python scripts/slim_gsplat_wheel.py WHEEL -o .gpu/wheels/gsplat-1.5.3-py3-none-any.whl
"""
from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

from models.io.atomic import write_bytes_atomic

DROP = ("third_party/glm/doc/", "third_party/glm/test/")


def slim(src: Path) -> tuple[bytes, int]:
    """The wheel's bytes without DROP's folders, and how many files went."""
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        dropped = {n for n in zin.namelist() if any(d in n for d in DROP)}
        for info in zin.infolist():
            if info.filename in dropped:
                continue
            data = zin.read(info.filename)
            if info.filename.endswith(".dist-info/RECORD"):
                rows = data.decode().splitlines()
                data = ("\n".join(r for r in rows if r.split(",", 1)[0] not in dropped) + "\n").encode()
            zout.writestr(info, data)
    return out.getvalue(), len(dropped)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path)
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args()
    data, dropped = slim(args.wheel)
    write_bytes_atomic(args.output, data)
    print(f"{args.output}: {len(data) / 1e6:.2f} MB ({args.wheel.stat().st_size / 1e6:.2f} MB before; {dropped} files "
          "of GLM's documentation and tests left out)")


if __name__ == "__main__":
    main()
