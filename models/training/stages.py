"""``perchead train`` stages: feature (perceptual net), style (text/image style space),
base (image -> head) and edit (seg map + style -> head, fine-tuned from base).

feature and style train in one process (small models, minutes); base and edit go through
models.training.loop and so run under torchrun with DDP.
"""
from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import torch

from models.errors import PercheadError
from models.training.config import TrainConfig
from models.training.distributed import DistInfo

log = logging.getLogger(__name__)
STAGES = ("feature", "style", "base", "edit")


def run_stage(cfg: TrainConfig, progress: bool = True) -> dict[str, Any]:
    """``progress``: the base and edit stages' step bar on stderr (steps, loss, heads/s, time left)."""
    if cfg.stage not in STAGES:
        raise PercheadError(f"unknown stage {cfg.stage!r}; use one of {', '.join(STAGES)}")
    if cfg.stage == "feature":
        return _train_feature(cfg)
    if cfg.stage == "style":
        return _train_style(cfg)
    from models.training.loop import run_training

    return run_training(cfg, make_reconstruction_task, progress=progress)


def _train_feature(cfg: TrainConfig) -> dict[str, Any]:
    from models.device import resolve_device
    from models.losses.feature_net import engine_batches, save_feature_net, train_feature_net

    device = resolve_device(cfg.device)
    size = cfg.image_size
    batches = engine_batches(cfg.batch_size, cfg.views, size, device=device, stream=cfg.seed + 101)
    held_out = engine_batches(8, cfg.views, size, device=device, split="bench")
    model, metrics = train_feature_net(batches, cfg.steps, device, eval_batches=[next(held_out) for _ in range(2)],
                                       seed=cfg.seed)
    if cfg.export:
        save_feature_net(model, cfg.export, metrics=metrics)
    return metrics


def _train_style(cfg: TrainConfig) -> dict[str, Any]:
    from models.device import resolve_device
    from models.style.checkpoint import save_style_model
    from models.style.paraphrases import paraphrase_set
    from models.style.train.bank import load_bank
    from models.style.train.contrastive import TrainStyleConfig, train_style

    device = resolve_device(cfg.device)
    bank = load_bank(_required(cfg, "bank"))
    bank.check_engine_attributes(cfg.data["bank"])
    para = paraphrase_set()
    table = {c: e for b in [bank] + [load_bank(p) for p in cfg.data.get("eval_banks", [])]
             for c, e in zip(b.captions, b.embeddings)}
    para_emb = None
    if all(p.prompt in table for p in para):  # paraphrases ride along as the bank's extra prompts
        para_emb = torch.stack([table[p.prompt] for p in para]).float()
    options = dict(cfg.data.get("style", {}))
    if "model" in options:
        from models.style.encoders import StyleConfig

        options["model"] = StyleConfig.from_dict(options["model"])
    train_cfg = TrainStyleConfig(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, seed=cfg.seed, **options)
    model, metrics = train_style(bank, train_cfg, device, eval_embeddings=para_emb,
                                 eval_paraphrases=para if para_emb is not None else None)
    if cfg.export:
        save_style_model(cfg.export, model, extra={"metrics": metrics, "train": cfg.to_dict()})
    return metrics


def _required(cfg: TrainConfig, key: str) -> str:
    value = cfg.data.get(key)
    if not value:
        raise PercheadError(f"stage {cfg.stage} needs data.{key} in the config")
    if not Path(value).exists():
        raise PercheadError(f"data.{key} file {value} not found")
    return value


class _EditHeads:
    """Heads for the edit stage: seeds from the caption bank, so each has a text embedding;
    the style vector is the caption's text style or (sometimes) the image style of another view."""

    def __init__(self, cfg: TrainConfig, dist: DistInfo, sampler) -> None:
        from models.style.checkpoint import load_style_model
        from models.style.train.bank import load_bank

        self.cfg, self.dist, self.sampler = cfg, dist, sampler
        self.style_model, _ = load_style_model(_required_style(cfg), dist.device)
        self.style_model.requires_grad_(False)
        bank = load_bank(_required(cfg, "bank"))
        bank.check_engine_attributes(cfg.data["bank"])
        rows = bank.seed_rows()
        self.seeds = bank.seeds[rows]
        self.emb = bank.embeddings[rows].float().to(dist.device)
        self.captions = [bank.captions[i] for i in rows.tolist()]
        # a bank with styles made on the CPU (scripts/bank_styles.py) carries another style model's text path: its
        # styles are used as they are; image styles still come from style_checkpoint's image encoder
        self.styles = None
        if cfg.data.get("bank_styles", False):
            if bank.styles is None:
                raise PercheadError(f"data.bank_styles is on but {cfg.data['bank']} carries no styles; give it "
                                    "styles with scripts/bank_styles.py")
            if bank.styles.shape[1] != self.style_model.cfg.style_dim:
                raise PercheadError(f"the bank's styles are {bank.styles.shape[1]}-d, the style space "
                                    f"{self.style_model.cfg.style_dim}-d")
            self.styles = bank.styles[rows].float().to(dist.device)
            log.warning("text styles from the bank (made with %s); image styles and the in-run eval's text styles "
                        "from %s", bank.style_source, cfg.style_checkpoint)
        elif bank.styles is not None:
            raise PercheadError(f"{cfg.data['bank']} carries text styles of {bank.style_source}: set data.bank_styles: "
                                "true to train on them, or use a bank without styles")
        self.rng = random.Random(cfg.seed * 7919 + dist.rank)
        self.image_prob = float(cfg.data.get("image_style_prob", 0.3))
        from models.training.augment import AugmentConfig, EditAugment

        aug = AugmentConfig.from_dict(cfg.data.get("augment"))
        # its own generator: training augmentation never shares a stream with the drawn eval maps
        self.augment = EditAugment(aug, seed=cfg.seed * 7919 + dist.rank + 104_729, device=dist.device) if aug.active else None

    def __call__(self, count: int):
        from models.evaluation.text import text_styles
        from models.networks.inputs import HeadBatch

        rows = [self.rng.randrange(len(self.seeds)) for _ in range(count)]
        batch = self.sampler.make_batch([int(self.seeds[r]) for r in rows], views=self.cfg.views,
                                        size=self.cfg.image_size, **_zoom(self.cfg))
        input_map = None
        if self.augment is not None:
            batch, input_map = self.augment(batch)  # re-framed / parts left out / rough input maps
        with torch.no_grad():
            if self.styles is not None:
                style = self.styles[rows]
            else:
                style = text_styles(self.style_model, [self.captions[r] for r in rows], self.emb[rows])
            if self.cfg.views > 1:
                use_image = torch.tensor([self.rng.random() < self.image_prob for _ in rows], device=style.device)
                if use_image.any():
                    img = batch.rgb[:, -1].permute(0, 3, 1, 2)
                    image_style = self.style_model.encode_images(img, batch.alpha[:, -1, None])
                    style = torch.where(use_image[:, None], image_style, style)
        return HeadBatch.from_engine(batch, style, input_map)


def _zoom(cfg: TrainConfig) -> dict[str, float]:
    """``data.zoom`` / ``data.zoom_prob``: supervised views rendered as windows of a ``zoom`` x larger view
    (models/synthetic/sampler.py: HeadSampler.make_batch), e.g. 256 px windows of 512 px views."""
    return {"zoom": float(cfg.data.get("zoom", 1.0)), "zoom_prob": float(cfg.data.get("zoom_prob", 0.0))}


def _required_style(cfg: TrainConfig) -> str:
    if not cfg.style_checkpoint or not Path(cfg.style_checkpoint).exists():
        raise PercheadError(f"stage edit needs style_checkpoint (got {cfg.style_checkpoint!r}); train the style stage first")
    return cfg.style_checkpoint


def _engine_config(cfg: TrainConfig):
    from models.synthetic.head import EngineConfig

    return EngineConfig(gaussians=int(cfg.data.get("engine_gaussians", EngineConfig().gaussians)))


def _sampler(cfg: TrainConfig, dist: DistInfo):
    from models.synthetic.sampler import HeadSampler

    return HeadSampler("train", stream=cfg.seed * 1000 + dist.rank + 1, device=dist.device, config=_engine_config(cfg),
                       background=cfg.data.get("background", "black"),
                       own_shapes=float(cfg.data.get("own_shapes", 0.0)))  # faces whose shape ignores the skin tone


def training_heads(cfg: TrainConfig, dist: DistInfo):
    """The training batches' source, ``heads(count) -> HeadBatch``: engine heads of this rank's stream (with
    caption styles and input augmentation for the edit stage, photo-like inputs for the base stage). Built here, or
    in a producer process (models/training/prefetch.py), from the same config, so both give the same batches."""
    sampler = _sampler(cfg, dist)
    if cfg.stage == "base":
        return _BaseHeads(cfg, dist, sampler)
    return _EditHeads(cfg, dist, sampler)


class _BaseHeads:
    """Heads for the base stage; with ``data.photo`` some inputs made photo-like (models/training/photo_augment.py)."""

    def __init__(self, cfg: TrainConfig, dist: DistInfo, sampler) -> None:
        from models.training.photo_augment import PhotoAugment, PhotoAugmentConfig

        self.cfg, self.sampler = cfg, sampler
        photo = PhotoAugmentConfig.from_dict(cfg.data.get("photo"))
        # its own generator, as the edit stage's augmentation
        self.photo = PhotoAugment(photo, seed=cfg.seed * 7919 + dist.rank + 130_363) if photo.active else None

    def __call__(self, count: int):
        from models.networks.inputs import HeadBatch

        batch = self.sampler.make_batch(count, views=self.cfg.views, size=self.cfg.image_size, **_zoom(self.cfg))
        if self.photo is None:
            return HeadBatch.from_engine(batch)
        batch, image, alpha = self.photo(batch)
        return HeadBatch.from_engine(batch, input_image=image, input_alpha=alpha)


def make_reconstruction_task(cfg: TrainConfig, dist: DistInfo):
    from models.evaluation.benchmark import benchmark_batches, evaluate_base, evaluate_edit
    from models.losses.combined import LossConfig, ReconstructionLoss
    from models.training.prefetch import Prefetcher
    from models.training.reconstruction import ReconstructionTask

    engine = _engine_config(cfg)
    eval_heads = int(cfg.data.get("eval_heads", 8))
    cached: list = []

    def bench():
        if not cached:
            cached.extend(benchmark_batches(eval_heads, cfg.image_size, dist.device, engine=engine))
        return cached

    depth = int(cfg.data.get("prefetch", 0))
    # a producer process makes the next batches while this one trains (data is ~43 % of a step on one H100:
    # docs/quality.md "Training throughput"); 0: in this process
    workers = int(cfg.data.get("prefetch_workers", 1))
    heads = Prefetcher(training_heads, cfg, dist, depth, workers) if depth > 0 else training_heads(cfg, dist)
    if cfg.stage == "base":
        evaluate = lambda model: evaluate_base(model, bench())  # noqa: E731
    else:
        from models.evaluation.text import TextEmbedder, text_styles
        from models.style.checkpoint import load_style_model
        from models.style.train.bank import load_bank

        style_model, _ = load_style_model(_required_style(cfg), dist.device)
        banks = [load_bank(p) for p in cfg.data.get("eval_banks", [])]
        embedder = TextEmbedder(banks)
        style_of = lambda caps: text_styles(style_model, caps, embedder(caps).to(dist.device))  # noqa: E731
        evaluate = lambda model: evaluate_edit(model, style_of, bench())  # noqa: E731
    loss_fn = ReconstructionLoss(LossConfig.from_dict(cfg.loss))
    return ReconstructionTask(cfg, dist, heads, loss_fn, evaluate)
