"""Pieces the feature losses share: a frozen-network holder and the normalised feature distance."""
from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

Distance = Literal["l1", "l2"]


class FrozenModule(nn.Module):
    """Holds a frozen network outside the module tree.

    It follows ``.to()`` / ``.cuda()`` / ``.half()`` of its owner, but its weights are not in the
    owner's ``parameters()`` or ``state_dict()``: a loss module then adds nothing to training
    checkpoints or optimisers (the frozen weights live in their own files), and ``.train()`` on
    the owner never takes it out of eval mode.
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        net.requires_grad_(False).eval()
        self._held = (net,)  # a tuple hides it from nn.Module's registration

    @property
    def net(self) -> nn.Module:
        return self._held[0]

    def forward(self, *args, **kwargs):
        return self.net(*args, **kwargs)

    def _apply(self, fn, recurse=True):
        self.net._apply(fn)
        return super()._apply(fn, recurse)


def unit_normalize(features: Tensor, dim: int, eps: float = 1e-10) -> Tensor:
    """Scale each feature vector (along ``dim``) to unit length; zero vectors stay zero."""
    return features / (features.pow(2).sum(dim, keepdim=True) + eps).sqrt()


def feature_distance(pred: Tensor, target: Tensor, dim: int, distance: Distance = "l2") -> Tensor:
    """Mean distance between unit-normalised feature vectors, as LPIPS does without learned weights.

    pred, target: same shape, feature vectors along ``dim`` (channels of a map or of a token).
    "l2": mean squared Euclidean distance of the unit vectors (= 2 - 2 cos, in 0..4).
    "l1": mean absolute difference of the unit vectors' entries.
    """
    a, b = unit_normalize(pred.float(), dim), unit_normalize(target.float(), dim)
    if distance == "l2":
        return (a - b).pow(2).sum(dim).mean()
    if distance == "l1":
        return (a - b).abs().mean()
    raise ValueError(f"unknown distance {distance!r}; use 'l1' or 'l2'")


def weighted_sum(terms: list[Tensor], weights: list[float]) -> Tensor:
    """sum_i w_i * t_i over per-layer distances, normalised by the weights' total."""
    total = sum(weights)
    if total <= 0:
        raise ValueError("layer weights must have a positive sum")
    return sum(w * t for w, t in zip(weights, terms)) / total


__all__ = ["Distance", "FrozenModule", "unit_normalize", "feature_distance", "weighted_sum"]
