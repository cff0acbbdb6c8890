"""Contrastive style training: losses, a few steps that lower the loss, predictions, the prompt metric."""
from __future__ import annotations

import math

import pytest
import torch

from models.style.encoders import ATTRIBUTES, PRESETS, StyleModel, attribute_predictions
from models.style.paraphrases import Paraphrase, prompt_attribute_accuracy
from models.style.train.bank import CaptionBank
from models.style.train.captions import captions_for_seeds, training_seeds
from models.style.train.contrastive import (TrainStyleConfig, attribute_targets, augment_images, clip_loss,
                                            render_seed_images, train_style)
from models.synthetic.attributes import REFERENCE_COLORS, sample_attributes


def test_clip_loss_limits() -> None:
    x = torch.nn.functional.normalize(torch.randn(8, 16), dim=-1)
    assert clip_loss(x, x, torch.tensor(100.0)) < 0.05                  # perfect pairs
    same = torch.nn.functional.normalize(torch.ones(8, 16), dim=-1)
    torch.testing.assert_close(clip_loss(same, same, torch.tensor(10.0)), torch.tensor(math.log(8)))


def _schematic(seeds: list[int], size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Cheap stand-in renders: hair colour on top, eye colour band, skin below ([S,1,3,H,W] uint8 + alpha)."""
    imgs = []
    for s in seeds:
        a = sample_attributes(s)
        img = torch.zeros(3, size, size)
        img[:, : size // 3] = torch.tensor(REFERENCE_COLORS["hair"][a.hair_color]).view(3, 1, 1) / 255
        img[:, size // 3: size // 2] = torch.tensor(REFERENCE_COLORS["eyes"][a.eye_color]).view(3, 1, 1) / 255
        img[:, size // 2:] = torch.tensor(REFERENCE_COLORS["skin"][a.skin_tone]).view(3, 1, 1) / 255
        imgs.append(img)
    rgb = (torch.stack(imgs)[:, None] * 255).round().to(torch.uint8)
    return rgb, torch.full((len(seeds), 1, 1, size, size), 255, dtype=torch.uint8)


def _bank(n: int) -> CaptionBank:
    rows = captions_for_seeds(training_seeds(n), per_seed=2)
    g = torch.Generator().manual_seed(0)
    emb = torch.nn.functional.normalize(torch.randn(len(rows), 384, generator=g), dim=-1)
    return CaptionBank(emb.half(), torch.tensor([s for s, _, _ in rows]),
                       torch.tensor([v for _, v, _ in rows], dtype=torch.int32), [c for *_, c in rows])


def test_few_steps_lower_the_loss() -> None:
    bank = _bank(8)
    seeds = sorted(set(bank.seeds.tolist()))
    cfg = TrainStyleConfig(steps=40, batch_size=8, lr=3e-3, warmup_steps=2, eval_every=0, emb_noise=0.0,
                           model=PRESETS["tiny"])
    paras = [Paraphrase("crimson locks", {"hair_color": "red"}), Paraphrase("inky pixie", {"hair_color": "black", "hair_style": "short"})]
    model, m = train_style(bank, cfg, "cpu", eval_embeddings=bank.embeddings[:2].float(), eval_paraphrases=paras,
                           images=_schematic(seeds))
    assert m["loss_last"] < 0.7 * m["loss_first"], m
    assert 0.0 <= m["prompt_attribute_accuracy"] <= 1.0 and "prompt_acc_hair_color" in m
    assert not model.training


def test_same_seed_same_result() -> None:
    bank = _bank(4)
    seeds = sorted(set(bank.seeds.tolist()))
    cfg = TrainStyleConfig(steps=3, batch_size=4, warmup_steps=1, eval_every=0, model=PRESETS["tiny"])
    runs = [train_style(bank, cfg, "cpu", images=_schematic(seeds))[1]["loss_last"] for _ in range(2)]
    assert runs[0] == runs[1]


def test_predictions_and_targets() -> None:
    model = StyleModel(PRESETS["tiny"]).eval()
    preds = attribute_predictions(model, torch.nn.functional.normalize(torch.randn(3, 32), dim=-1))
    assert len(preds) == 3 and all(preds[0][k] in ATTRIBUTES[k] for k in ATTRIBUTES)
    y = attribute_targets([sample_attributes(s) for s in (1, 2)])
    assert y["hair_color"].shape == (2,) and int(y["hair_style"].max()) < len(ATTRIBUTES["hair_style"])
    with pytest.raises(ValueError):
        prompt_attribute_accuracy(model, torch.randn(2, 384), [Paraphrase("x", {"hair_color": "red"})])


def test_augment_keeps_colours() -> None:
    rgb = torch.full((2, 3, 16, 16), 200, dtype=torch.uint8)
    alpha = torch.full((2, 1, 16, 16), 255, dtype=torch.uint8)
    out, a = augment_images(rgb, alpha, torch.Generator().manual_seed(0), max_shift=0.0, max_zoom=0.0)
    torch.testing.assert_close(out[:, :, 4:12, 4:12], torch.full((2, 3, 8, 8), 200 / 255), atol=1e-4, rtol=0)
    assert a.shape == (2, 1, 16, 16)


def test_engine_renders_for_bank_seeds() -> None:
    rgb, alpha = render_seed_images(training_seeds(1), size=24, device=torch.device("cpu"))
    assert rgb.shape == (1, 1, 3, 24, 24) and alpha.shape == (1, 1, 1, 24, 24) and rgb.dtype == torch.uint8
    assert alpha.float().mean() > 40  # a head fills a good part of the canonical view
