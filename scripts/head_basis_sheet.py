"""Pictures of the baked head model for docs/engine.md ("Head basis"): its classes from four sides, identities
across gender, age and ancestry, and expressions; bare surfaces (grey, lit from the upper front), 512 px a view.

    python scripts/head_basis_sheet.py -o docs/img/engine
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from models.cameras import canonical_view, orbit_camera
from models.gaussians import Gaussians
from models.io.images import save_picture, save_png
from models.palette import palette
from models.render import render
from models.synthetic.basis import load_basis, phenotype_features
from models.synthetic.surface import place_sites, surface_sites

LIGHT = (0.35, 0.45, 0.82)
# (gender, age, african, asian) per column: young man / woman, adult, older, elderly, across ancestries
IDENTITIES = [(0.05, 0.65, 1.0, 0.0), (0.95, 0.65, 1.0, 0.0), (0.05, 0.75, 0.0, 1.0), (0.95, 0.75, 0.0, 1.0),
              (0.05, 0.88, 0.0, 0.0), (0.95, 0.88, 0.0, 0.0), (0.05, 0.98, 0.4, 0.3), (0.95, 0.98, 0.3, 0.4)]
EXPRESSIONS = [(), ("jawOpen",), ("mouthSmileLeft", "mouthSmileRight"), ("eyeBlinkLeft", "eyeBlinkRight"),
               ("browInnerUp", "browOuterUpLeft", "browOuterUpRight"), ("mouthPucker",)]


def heads(vertices: torch.Tensor, colours: torch.Tensor | None, count: int = 120_000) -> list[Gaussians]:
    """Surface Gaussians of heads with ``vertices`` [B, V, 3], grey and lit, or coloured per triangle [F, 3]."""
    basis = load_basis()
    sites = surface_sites(basis.template, basis.faces, count)
    means, quats, scales, normal = place_sites(vertices, basis.faces, sites)
    light = torch.tensor(LIGHT) / torch.tensor(LIGHT).norm()
    shade = 0.3 + 0.7 * (normal @ light).clamp_min(0.0)                                 # [B, n]
    base = torch.full((len(sites), 3), 0.78) if colours is None else colours[sites.triangles]
    rgb = base[None] * (shade[..., None] if colours is None else 0.55 + 0.45 * shade[..., None])
    labels = basis.face_labels[sites.triangles]
    return [Gaussians.from_activated(means[b], quats[b], scales[b], torch.ones(len(sites)), rgb[b], labels)
            for b in range(vertices.shape[0])]


def views(g: Gaussians, yaws: tuple[float, ...], size: int = 512) -> np.ndarray:
    view = canonical_view()
    return np.concatenate([render(g, orbit_camera(view.orbit_at(y, 0.0), size), classes=False).rgb.clamp(0, 1)
                           .numpy() for y in yaws], 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, default=Path("docs/img/engine"))
    args = ap.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    torch.set_grad_enabled(False)
    basis = load_basis()
    k = basis.identity_basis.shape[0]
    zero = torch.zeros(1, k)

    colours = torch.as_tensor(palette().colorize(basis.face_labels.numpy()[None])[0] / 255.0, dtype=torch.float32)
    classes = heads(basis.vertices(zero), colours)[0]
    save_png(args.output / "basis_classes.png", views(classes, (0.0, 45.0, 90.0, 180.0)))

    g, a, af, as_ = (torch.tensor(c, dtype=torch.float32) for c in zip(*IDENTITIES))
    half = torch.full_like(g, 0.5)
    ident = basis.identity(phenotype_features(g, a, half, half, half, af, as_),
                           torch.randn(len(g), k, generator=torch.Generator().manual_seed(0)))
    people = heads(basis.vertices(ident), None, 90_000)
    rows = [np.concatenate([views(p, (0.0, 60.0), 384) for p in people[i:i + 4]], 1) for i in (0, 4)]
    save_picture(args.output / "basis_identities.jpg", np.concatenate(rows, 0))

    weights = torch.zeros(len(EXPRESSIONS), len(basis.expressions))
    for i, names in enumerate(EXPRESSIONS):
        for name in names:
            weights[i, basis.expression_index(name)] = 1.0
    faces = heads(basis.vertices(ident[4:5].expand(len(EXPRESSIONS), -1), weights), None, 90_000)
    save_png(args.output / "basis_expressions.png", np.concatenate([views(f, (0.0,), 384) for f in faces], 1))
    print(f"wrote {args.output}/basis_classes.png, basis_identities.jpg, basis_expressions.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
