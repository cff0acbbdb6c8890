"""What ``perchead eval`` runs: base and edit benchmark metrics and prompt understanding."""
from __future__ import annotations

import time
from typing import Any

import torch

from models.evaluation.benchmark import benchmark_batches, evaluate_base, evaluate_edit
from models.pipeline import HeadPipeline


def run_benchmark(checkpoint_dir: str | None, device: str, heads: int) -> dict[str, Any]:
    pipe = HeadPipeline(checkpoint_dir, device)
    t0 = time.time()
    batches = benchmark_batches(heads, pipe.image_size, pipe.device)
    result: dict[str, Any] = {"device": str(pipe.device), "heads": heads}
    result.update(evaluate_base(pipe.net("base"), batches))
    style = pipe.style_model()
    from models.evaluation.text import TextEmbedder

    embed = TextEmbedder()
    style_of = lambda caps: style.encode_prompts(list(caps), embed(caps).to(pipe.device))  # noqa: E731
    result.update(evaluate_edit(pipe.net("edit"), style_of, batches))
    from models.style.contrastive import prompt_attribute_accuracy
    from models.style.paraphrases import paraphrase_set

    para = paraphrase_set()
    with torch.no_grad():
        result.update(prompt_attribute_accuracy(style, embed([p.prompt for p in para]).to(pipe.device), para))
    result["prompts"] = len(para)
    from models.style.contrastive import prompt_metrics_v2

    with torch.no_grad():
        result.update(prompt_metrics_v2(style, embed, pipe.device))  # second held-out set (issue 7)
    result["seconds"] = round(time.time() - t0, 1)
    return result
