"""Measured: where one edit/base training step spends its time (issue 24 item 4, heads/s). Result: docs/quality.md "Training throughput".

Builds the task of a training recipe exactly as ``perchead train`` does, runs a few warm-up
steps, then times each phase of a step with a device sync around it (so the phases add up to a
slower-than-real step; the plain loop's heads/s is measured too, without the syncs):

  data: attributes (Python), engine generation, engine render, augmentation, style vectors
  step: forward, render, each loss term, backward, optimiser, the discriminator's step

Prints one JSON object (and writes it to --out) with ms per phase and heads/s; with --trace a
torch.profiler table of the top device kernels goes beside it. Example (one GPU):

    python experiments/train_step_profile.py configs/history/edit_v2_adv.yaml --steps 6 --out prof.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from contextlib import contextmanager


def _term(lf, term: str, out, batch):
    """One loss term of models.losses.combined, alone (so its time can be measured)."""
    from models.losses.image import class_cross_entropy, gradient_l1, l1_loss, ssim_loss

    if term == "class_ce":
        return class_cross_entropy(out["class_weights"], out["alpha"], batch.classes)
    if term == "feature":
        return lf.feature_loss(out["rgb"], batch.rgb)
    return {"l1": l1_loss, "ssim": ssim_loss, "gradient": gradient_l1}[term](out["rgb"], batch.rgb)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config")
    p.add_argument("--steps", type=int, default=6, help="timed steps (after --warmup)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch", type=int, default=None, help="override batch_size")
    p.add_argument("--views", type=int, default=None, help="override views")
    p.add_argument("--set", action="append", default=[], help="loss.TERM=W or adversarial.weight=W overrides")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default=None)
    p.add_argument("--trace", default=None, help="write a torch.profiler kernel table here")
    args = p.parse_args(argv)

    import torch

    from models.device import is_accelerator, synchronize
    from models.losses.image import class_cross_entropy, soft_class_jaccard
    from models.networks.inputs import model_inputs
    from models.training.config import TrainConfig
    from models.training.distributed import init_distributed
    from models.training.reconstruction import class_balance, render_predictions
    from models.training.stages import make_reconstruction_task

    cfg = TrainConfig.load(args.config)
    cfg.device = args.device
    if args.batch:
        cfg.batch_size = args.batch
    if args.views:
        cfg.views = args.views
    for item in args.set:
        key, value = item.split("=")
        section, name = key.split(".")
        getattr(cfg, section)[name] = float(value)
    cfg.data["eval_heads"] = 1
    dist = init_distributed(cfg.device)
    dev = dist.device
    if is_accelerator(dev):
        torch.set_float32_matmul_precision("high")
    task = make_reconstruction_task(cfg, dist)
    model = task.build_model().to(dev)
    opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=1e-6)
    autocast = torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=is_accelerator(dev))
    if task.adversary is not None:
        task.adversary.updates = task.adversary.cfg.start + task.adversary.cfg.ramp  # time the full game

    def plain_step():
        batch = task.heads(cfg.batch_size)
        with autocast:
            loss, _ = task.loss(model, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item()
        opt.step()
        task.after_step()

    for _ in range(args.warmup):
        plain_step()
    synchronize(dev)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        plain_step()
    synchronize(dev)
    plain_s = (time.perf_counter() - t0) / args.steps

    times: dict[str, float] = defaultdict(float)

    @contextmanager
    def phase(name: str):
        synchronize(dev)
        t = time.perf_counter()
        yield
        synchronize(dev)
        times[name] += time.perf_counter() - t

    edit = cfg.stage == "edit"
    heads = task.heads
    for _ in range(args.steps):
        with phase("data_total"):
            if edit:
                from models.evaluation.text import text_styles
                from models.networks.inputs import HeadBatch

                rows = [heads.rng.randrange(len(heads.seeds)) for _ in range(cfg.batch_size)]
                raw = heads.sampler.make_batch([int(heads.seeds[r]) for r in rows], views=cfg.views, size=cfg.image_size)
                times["data_engine_generate"] += raw.timings["generate"]
                times["data_engine_render"] += raw.timings["render"]
                input_map = None
                with phase("data_augment"):
                    if heads.augment is not None:
                        raw, input_map = heads.augment(raw)
                with phase("data_style"), torch.no_grad():
                    style = text_styles(heads.style_model, [heads.captions[r] for r in rows], heads.emb[rows])
                    img = raw.rgb[:, -1].permute(0, 3, 1, 2)
                    image_style = heads.style_model.encode_images(img, raw.alpha[:, -1, None])
                    style = torch.where(torch.rand(len(rows), device=dev)[:, None] < heads.image_prob, image_style, style)
                batch = HeadBatch.from_engine(raw, style, input_map)
            else:
                batch = heads(cfg.batch_size)
        with autocast:
            with phase("forward"):
                pred = model(*model_inputs(task.net_cfg, batch))
            with torch.autocast(device_type=dev.type, enabled=False):
                with phase("render"):
                    out = render_predictions(pred, batch, task.render_mode)
                total = 0.0
                lf = task.loss_fn
                for term in lf.terms:
                    with phase(f"loss_{term}"):
                        total = total + getattr(lf.config, term) * _term(lf, term, out, batch)
                if cfg.balanced_class_ce > 0:
                    with phase("loss_balanced_ce"):
                        w = class_balance(batch.classes, out["class_weights"].shape[-1], cfg.class_balance_power,
                                          cfg.class_balance_max)
                        total = total + cfg.balanced_class_ce * class_cross_entropy(
                            out["class_weights"], out["alpha"], batch.classes, class_balance=w)
                if cfg.class_jaccard > 0:
                    with phase("loss_jaccard"):
                        total = total + cfg.class_jaccard * soft_class_jaccard(out["class_weights"], out["alpha"],
                                                                               batch.classes)
                if task.adversary is not None:
                    with phase("loss_adversarial_g"):
                        adv, _ = task.adversary.generator_terms(out["rgb"], batch.rgb, batch.classes)
                        total = total + adv
        with phase("backward"):
            opt.zero_grad(set_to_none=True)
            total.backward()
        with phase("optimiser"):
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        with phase("discriminator_step"):
            task.after_step()

    ms = {k: round(1000 * v / args.steps, 2) for k, v in sorted(times.items())}
    step_ms = sum(v for k, v in ms.items() if not k.startswith("data_") or k == "data_total")
    info = {
        "config": args.config, "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev) if is_accelerator(dev) else "cpu",
        "torch": torch.__version__, "batch": cfg.batch_size, "views": cfg.views, "size": cfg.image_size,
        "gaussians_per_head": task.net_cfg.num_gaussians, "overrides": args.set,
        "plain_step_ms": round(1000 * plain_s, 1), "plain_heads_per_s": round(cfg.batch_size / plain_s, 1),
        "synced_step_ms": round(step_ms, 1), "phases_ms": ms,
        "peak_mem_gb": round(torch.cuda.max_memory_allocated(dev) / 2 ** 30, 2) if is_accelerator(dev) else None,
    }
    if args.trace:
        from torch.profiler import ProfilerActivity, profile

        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if is_accelerator(dev) else [])
        with profile(activities=acts) as prof:
            for _ in range(2):
                plain_step()
            synchronize(dev)
        sort = "self_cuda_time_total" if is_accelerator(dev) else "self_cpu_time_total"
        with open(args.trace, "a") as f:
            f.write(f"# {args.config} batch {cfg.batch_size} views {cfg.views} {args.set}\n")
            f.write(prof.key_averages().table(sort_by=sort, row_limit=40, max_name_column_width=70) + "\n")
    text = json.dumps(info, indent=1)
    print(text)
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(info) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
