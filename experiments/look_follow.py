"""Issue 24 item 3: does an edit model's head follow the look a prompt names (age, freckles)? Benchmark heads' own
class maps, prompts that differ only in the person's age or in freckles; on the front view at 512 px, the skin
class's fine texture (mean absolute Laplacian of its luminance, models.evaluation.metrics.laplacian_energy) and mean
colour, per prompt. The same numbers on the engine's own heads, grouped by their age and freckles, say what a
follower should show (older skin and freckles carry more fine texture in the engine).

    python experiments/look_follow.py --edit checkpoints/edit.safetensors
    python experiments/look_follow.py --edit EDIT --style runs/q19/style_candidate_look1.safetensors
"""
from __future__ import annotations

import argparse
import json

import torch

from models.cameras import canonical_view, orbit_camera
from models.evaluation.benchmark import benchmark_batches
from models.evaluation.metrics import laplacian_energy
from models.evaluation.text import TextEmbedder
from models.networks.checkpoint import load_checkpoint
from models.networks.inputs import HeadBatch, model_inputs
from models.palette import palette
from models.render import render_views
from models.style.checkpoint import load_style_model
from models.synthetic.attributes import FRECKLE_WORDS, PERSON_WORDS, sample_attributes

# prompts from the training templates' own words (assets/engine/caption_words.yaml), never a held-out word
HAIR = "short black hair"


def _person(age: str) -> str:
    word = PERSON_WORDS[("woman", age)][0]
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def prompts() -> dict[str, str]:
    out = {age: f"{_person(age)} with {HAIR}" for age in ("young", "adult", "older")}
    out["freckles"] = f"{_person('adult')} with {HAIR}, with {FRECKLE_WORDS['freckles'][0]}"
    return out


def skin_stats(head, size: int) -> tuple[float, list[float]] | None:
    """(skin texture, skin mean colour in sRGB levels) of a head's front view, or None with too little skin."""
    view = render_views(head, [orbit_camera(canonical_view().orbit_at(0.0, 0.0), size)], classes=True)
    skin = view.class_map[0] == palette().id_of("skin")
    if skin.sum() < 400:
        return None
    return laplacian_energy(view.rgb[0], skin), (view.rgb[0][skin].mean(0) * 255).tolist()


def summarise(rows: list[tuple[float, list[float]]]) -> dict[str, object]:
    tex = torch.tensor([r[0] for r in rows])
    col = torch.tensor([r[1] for r in rows]).mean(0)
    return {"heads": len(rows), "skin_texture": round(float(tex.mean()), 5), "skin_rgb": [round(float(c), 1) for c in col]}


def truth(batch, size: int) -> dict[str, object]:
    groups: dict[str, list] = {}
    for i, seed in enumerate(batch.seeds):
        a = sample_attributes(int(seed))
        stats = skin_stats(batch.gaussians[i], size)
        if stats is not None:
            groups.setdefault(a.age, []).append(stats)
            groups.setdefault("freckles" if a.freckles > 0 else "no freckles", []).append(stats)
    return {k: summarise(v) for k, v in sorted(groups.items())}


def follow(net, style, batch, size: int) -> dict[str, object]:
    out = {}
    for name, prompt in prompts().items():
        texts = [prompt] * len(batch.seeds)
        st = style.encode_prompts(texts, TextEmbedder([])(texts))
        with torch.no_grad():
            pred = net(*model_inputs(net.cfg, HeadBatch.from_engine(batch, st)))
        rows = [s for i in range(len(batch.seeds)) if (s := skin_stats(pred.head(i), size)) is not None]
        out[name] = {"prompt": prompt, **summarise(rows)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edit", action="append", default=[], help="an edit checkpoint (repeatable)")
    ap.add_argument("--style", default="checkpoints/style.safetensors",
                    help="the style model the edit checkpoints were trained on")
    ap.add_argument("--heads", type=int, default=4, help="benchmark heads whose maps the prompts restyle")
    ap.add_argument("--truth-heads", type=int, default=16, help="benchmark heads for the engine's own numbers")
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()
    style, _ = load_style_model(args.style)
    report: dict[str, object] = {"engine": truth(benchmark_batches(args.truth_heads, 256, torch.device("cpu"),
                                                                   chunk=args.truth_heads)[0], args.size)}
    batch = benchmark_batches(args.heads, 256, torch.device("cpu"), chunk=args.heads)[0]
    for path in args.edit:
        net, _ = load_checkpoint(path)
        report[path] = follow(net.eval(), style, batch, args.size)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
