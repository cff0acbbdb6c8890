"""The adversarial term of the base and edit training: a conditional patch discriminator
(models/losses/discriminator.py) learns to tell the engine's renders from the model's, given the view's class
map, and the model learns to make renders it cannot tell apart, with feature matching beside it.

Why: L1, SSIM and the class terms are minimised by the average of what the input leaves open (curls, strands,
skin texture, the back of the head), and the average of many curls is a smooth cap. A discriminator punishes the
average itself. It is training-only state: nothing of it is shipped or committed. A run, or a run resumed in a
later session, rebuilds it by a warm-up: for ``start`` steps the discriminator trains alone, then the
generator's weights rise to full over ``ramp`` steps.

Losses: non-saturating logistic (softplus) for both players, averaged over the patch logits of every scale;
feature matching is the L1 between the discriminator's activations on the model's render and on the truth
(the truth's taken without gradient), averaged over layers and scales.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from models.device import is_accelerator
from models.errors import PercheadError
from models.losses.discriminator import DiscriminatorConfig, PatchDiscriminator


@dataclass
class AdversarialConfig:
    weight: float = 0.0            # the generator's adversarial term; 0 turns the whole adversary off
    feature_matching: float = 0.0  # the generator's feature-matching term
    lr: float = 2e-4               # the discriminator's Adam learning rate
    beta1: float = 0.0
    beta2: float = 0.99
    start: int = 200               # steps the discriminator trains alone before the generator feels it
    ramp: int = 200                # steps over which the generator's terms rise from 0 to full
    views: int = 2                 # rendered views per head the discriminator sees (a random pick per step)
    disc: dict[str, Any] = field(default_factory=dict)  # DiscriminatorConfig fields

    def __post_init__(self) -> None:
        for name in ("weight", "feature_matching", "lr", "start", "ramp", "views"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise PercheadError(f"adversarial.{name}={v!r} must be a number >= 0")
        if self.views < 1:
            raise PercheadError("adversarial.views must be at least 1")
        known = {f.name for f in fields(DiscriminatorConfig)}
        unknown = sorted(set(self.disc) - known)
        if unknown:
            raise PercheadError(f"unknown adversarial.disc option(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")

    @property
    def active(self) -> bool:
        return self.weight > 0 or self.feature_matching > 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AdversarialConfig:
        data = dict(data or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise PercheadError(f"unknown adversarial option(s) {', '.join(unknown)}; valid: {', '.join(known)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Adversary:
    """The discriminator, its optimiser, and the two players' losses.

    ``generator_terms`` is called inside the model's loss (its gradients reach the render, not the
    discriminator); ``update`` trains the discriminator once on the views the last call picked."""

    def __init__(self, cfg: AdversarialConfig, device: torch.device, seed: int = 0) -> None:
        self.cfg, self.device = cfg, device
        self.disc = PatchDiscriminator(DiscriminatorConfig(**cfg.disc)).to(device)
        self.opt = torch.optim.Adam(self.disc.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
        self.updates = 0  # discriminator steps in this process (the warm-up counts from a fresh one)
        self.gen = torch.Generator(device="cpu").manual_seed(seed)
        self._pending: tuple[Tensor, Tensor, Tensor] | None = None

    def ramp(self) -> float:
        """0 during the warm-up, rising to 1 over ``ramp`` steps."""
        if self.updates < self.cfg.start:
            return 0.0
        return min(1.0, (self.updates - self.cfg.start + 1) / max(1, self.cfg.ramp))

    def _pick(self, rgb: Tensor, real: Tensor, classes: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """[B, V, H, W, 3] x2, [B, V, H, W] -> k views per head, [B*k, 3, H, W] x2 and [B*k, H, W]."""
        b, v = rgb.shape[:2]
        k = min(self.cfg.views, v)
        idx = torch.stack([torch.randperm(v, generator=self.gen)[:k] for _ in range(b)]).to(rgb.device)  # [B, k]
        rows = torch.arange(b, device=rgb.device)[:, None]

        def take(x: Tensor) -> Tensor:
            return x[rows, idx].reshape(b * k, *x.shape[2:])

        return take(rgb).permute(0, 3, 1, 2), take(real).permute(0, 3, 1, 2), take(classes)

    def _autocast(self):
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16,
                              enabled=is_accelerator(self.device))

    def generator_terms(self, rgb: Tensor, real: Tensor, classes: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """rgb: the model's renders [B, V, H, W, 3] (with gradient); real: the truth, same shape; classes: the
        truth's class maps [B, V, H, W]. Returns (weighted sum, named unweighted terms)."""
        fake, true, cls = self._pick(rgb, real, classes)
        self._pending = (fake.detach(), true, cls)
        scale = self.ramp()
        if scale == 0.0:
            zero = rgb.new_zeros(())
            return zero, {"adv_g": zero, "feature_match": zero}
        self.disc.requires_grad_(False)
        try:
            with self._autocast():
                out_fake = self.disc(fake, cls)
                with torch.no_grad():
                    out_true = self.disc(true, cls)
            adv = torch.stack([F.softplus(-logits.float()).mean() for logits, _ in out_fake]).mean()
            fm = torch.stack([(a.float() - b.float()).abs().mean() for (_, fa), (_, fb) in zip(out_fake, out_true)
                              for a, b in zip(fa, fb)]).mean()
        finally:
            self.disc.requires_grad_(True)
        total = scale * (self.cfg.weight * adv + self.cfg.feature_matching * fm)
        return total, {"adv_g": adv.detach(), "feature_match": fm.detach()}

    def update(self) -> dict[str, Tensor]:
        """One discriminator step on the views the last ``generator_terms`` call picked."""
        if self._pending is None:
            return {}
        fake, true, cls = self._pending
        self._pending = None
        with self._autocast():
            out = self.disc(torch.cat([true, fake]), torch.cat([cls, cls]))
        n = true.shape[0]
        loss_real = torch.stack([F.softplus(-logits[:n].float()).mean() for logits, _ in out]).mean()
        loss_fake = torch.stack([F.softplus(logits[n:].float()).mean() for logits, _ in out]).mean()
        self.opt.zero_grad(set_to_none=True)
        (loss_real + loss_fake).backward()
        self.opt.step()
        self.updates += 1
        with torch.no_grad():
            real_right = torch.stack([(logits[:n] > 0).float().mean() for logits, _ in out]).mean()
        return {"d_real": loss_real.detach(), "d_fake": loss_fake.detach(), "d_real_right": real_right}


__all__ = ["AdversarialConfig", "Adversary"]
