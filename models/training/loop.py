"""The one training loop: any task, one or many processes, CPU or GPU, resumable."""
from __future__ import annotations

import json
import logging
import math
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Iterator, Protocol

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from models.device import is_accelerator
from models.errors import PercheadError
from models.io.checkpoints import load_state, save_state
from models.training.config import TrainConfig
from models.training.distributed import (DistInfo, all_reduce_mean, barrier, init_distributed, rank_weight_spread,
                                         shutdown)

log = logging.getLogger(__name__)


class Task(Protocol):
    """What a training stage supplies to the loop."""

    def build_model(self) -> nn.Module: ...
    def batches(self) -> Iterator[Any]: ...
    def loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...
    def evaluate(self, model: nn.Module) -> dict[str, float]: ...
    def export(self, model: nn.Module, path: Path, metrics: dict[str, float]) -> None: ...


def lr_at(step: int, cfg: TrainConfig, elapsed_min: float = 0.0) -> float:
    """Linear warm-up then cosine decay to 5% of the peak.

    With a wall-time budget (max_minutes) the decay follows whichever of steps and time runs
    out first, so a run stopped by the clock still ends annealed.
    """
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    if cfg.max_minutes:
        t = max(t, elapsed_min / cfg.max_minutes)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


PER_POINT = ("head.point_bias",)  # parameters with one row per Gaussian (net.point_bias): no weight decay


def param_groups(model: nn.Module, cfg: TrainConfig) -> list[dict]:
    """The trainable parameters in groups by learning-rate multiple (cfg.lr_scale: the longest matching name prefix
    wins; none: the schedule's rate); per-point parameters without weight decay (a point's own part is not a weight
    to shrink)."""
    groups: dict[tuple[float, bool], list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        prefixes = [k for k in cfg.lr_scale if name.startswith(k)]
        scale = float(cfg.lr_scale[max(prefixes, key=len)]) if prefixes else 1.0
        groups.setdefault((scale, name in PER_POINT), []).append(p)
    unused = [k for k in cfg.lr_scale if not any(n.startswith(k) for n, _ in model.named_parameters())]
    if unused:
        raise PercheadError(f"lr_scale names no parameter of the {cfg.stage} model: {unused}")
    return [{"params": params, "lr_scale": scale, **({"weight_decay": 0.0} if per_point else {})}
            for (scale, per_point), params in sorted(groups.items())]


def run_training(cfg: TrainConfig, make_task, progress: bool = True) -> dict[str, float]:
    """Train ``make_task(cfg, dist)``'s model for cfg.steps; returns the last eval metrics. ``progress``: a step
    bar on stderr from the main process."""
    dist = init_distributed(cfg.device)
    torch.manual_seed(cfg.seed + dist.rank)
    if is_accelerator(dist.device):
        torch.set_float32_matmul_precision("high")  # TF32 matmuls; convolutions already use it by default
    task: Task = make_task(cfg, dist)
    model = task.build_model().to(dist.device)
    groups = param_groups(model, cfg)
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "state.safetensors"
    step = 0
    if state_path.exists():
        step, _ = load_state(state_path, model, optimizer)
        for group, built in zip(optimizer.param_groups, groups):  # the recipe's rates, not the saved ones
            group["lr_scale"] = built["lr_scale"]
            group["weight_decay"] = built.get("weight_decay", cfg.weight_decay)
        log.warning("resumed %s at step %d", state_path, step)
    train_model: nn.Module = model
    if dist.world > 1:
        train_model = DistributedDataParallel(model, device_ids=[dist.local_rank] if is_accelerator(dist.device) else None)
    autocast = (torch.autocast(device_type=dist.device.type, dtype=torch.bfloat16)
                if cfg.bf16 and is_accelerator(dist.device) else nullcontext())
    metrics_log = (out / "metrics.jsonl").open("a") if dist.is_main else None
    batches = task.batches()
    bar = tqdm(total=cfg.steps, initial=step, disable=not (dist.is_main and progress), dynamic_ncols=True,
               desc=f"training {cfg.stage}", file=sys.stderr)
    t_start, last_eval = time.time(), {}
    seen, t_window = 0, time.time()
    stop_reason = "steps"
    data_s = step_s = 0.0
    try:
        while step < cfg.steps:
            elapsed_min = (time.time() - t_start) / 60
            base_lr = lr_at(step, cfg, elapsed_min)
            for group in optimizer.param_groups:
                group["lr"] = base_lr * group["lr_scale"]
            t0 = time.perf_counter()
            batch = next(batches)
            t1 = time.perf_counter()
            train_model.train()
            with autocast:
                loss, terms = task.loss(train_model, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # every rank takes part (DDP all-reduces here), finite or not
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            # the one device sync per step: never let one bad batch poison the weights. The norm
            # is of all-reduced gradients, so every rank skips the same steps.
            if not torch.isfinite(grad_norm):
                log.warning("step %d: non-finite loss or gradient (loss %s), batch skipped", step, loss.item())
                continue
            optimizer.step()
            after = getattr(task, "after_step", None)
            if after is not None:  # a second player (the discriminator) takes its step
                terms = {**terms, **after()}
            step += 1
            seen += cfg.batch_size * dist.world
            data_s, step_s = data_s + (t1 - t0), step_s + (time.perf_counter() - t1)
            if step % cfg.log_every == 0 or step == cfg.steps:
                loss_mean = all_reduce_mean(loss.detach().float()).item()
                window = max(1e-9, time.time() - t_window)
                rate = seen / window
                if dist.is_main:
                    bar.set_postfix(loss=f"{loss_mean:.4f}", heads_s=f"{rate:.1f}")
                    # data_s: engine generation + render (the sampler syncs, so this is device time);
                    # step_s: forward, render, losses, backward (up to the grad-norm sync)
                    row = {"step": step, "loss": loss_mean, "lr": base_lr, "grad_norm": float(grad_norm),
                           "heads_per_s": rate, "elapsed_s": time.time() - t_start,
                           "data_share": data_s / window, "step_share": step_s / window,
                           **{k: float(v) for k, v in terms.items()}}
                    metrics_log.write(json.dumps(row) + "\n")
                    metrics_log.flush()
                seen, t_window, data_s, step_s = 0, time.time(), 0.0, 0.0
            bar.update(1)
            if step % cfg.ckpt_every == 0 and dist.is_main:
                save_state(state_path, model, optimizer, step)
                if cfg.export:  # a usable fp16 file even if the machine goes away before the end
                    task.export(model, Path(cfg.export), {"step": step, "partial": True})
            if step % cfg.eval_every == 0 and dist.is_main:
                last_eval = _evaluate_and_export(task, model, cfg, step, metrics_log)
            if cfg.max_minutes and (time.time() - t_start) / 60 > cfg.max_minutes:
                stop_reason = "time"
                break
        spread = rank_weight_spread(model)  # every rank takes part in the gather
        if dist.is_main:
            save_state(state_path, model, optimizer, step)
            last_eval = _evaluate_and_export(task, model, cfg, step, metrics_log)
            last_eval.update({"steps_done": step, "stop_reason": stop_reason, "world_size": dist.world,
                              "rank_weight_spread": spread, "train_minutes": (time.time() - t_start) / 60})
        barrier()
    finally:
        bar.close()
        if metrics_log:
            metrics_log.close()
        close = getattr(task, "close", None)
        if close is not None:  # a batch producer process (data.prefetch)
            close()
        shutdown()
    return last_eval


def _evaluate_and_export(task: Task, model: nn.Module, cfg: TrainConfig, step: int, metrics_log) -> dict[str, float]:
    model.eval()
    with torch.no_grad():
        metrics = task.evaluate(model)
    metrics_log.write(json.dumps({"step": step, "eval": metrics}) + "\n")
    metrics_log.flush()
    if cfg.export:
        task.export(model, Path(cfg.export), {**metrics, "step": step})
    return metrics
