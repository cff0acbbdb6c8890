"""Give a style checkpoint the class means that steer prompts to their dictionary reading (models/style/steering.py).

The means are the text head's own (unsteered) vectors of template captions of training heads, per class of each
steered attribute: what the edit decoder was trained to read. Every weight of the input checkpoint is kept bit for
bit; the output gains the ``steer_means`` buffer and ``text_steering`` in its config.

    python scripts/style_steering_means.py checkpoints/style.safetensors \
        --bank .cache/style/template_bank.safetensors -o .cache/style/steered.safetensors
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    import torch

    from models.style.bank import load_bank
    from models.style.checkpoint import load_style_model, save_style_model
    from models.style.encoders import ATTRIBUTES, StyleModel
    from models.style.steering import (
        STEERED_ATTRIBUTES,
        class_means,
        dictionary_readings,
    )
    from models.synthetic.attributes import sample_attributes
    from models.synthetic.sampler import is_benchmark_seed

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--bank", required=True, help="caption bank whose variant-0 rows are template captions")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))

    model, extra = load_style_model(args.checkpoint)
    bank = load_bank(args.bank)
    rows = [i for i, (s, v) in enumerate(zip(bank.seeds.tolist(), bank.variants.tolist()))
            if v == 0 and s >= 0 and not is_benchmark_seed(s)]
    captions = [bank.captions[i] for i in rows]
    emb = bank.embeddings[rows].float()                                                      # [N, E]
    with torch.no_grad():
        styles = torch.cat([model.encode_prompts(captions[i:i + 512], emb[i:i + 512], steer=False)
                            for i in range(0, len(rows), 512)])                              # [N, D]
    attrs = [sample_attributes(int(bank.seeds[i])) for i in rows]
    labels = {a: torch.tensor([ATTRIBUTES[a].index(getattr(h, a)) for h in attrs]) for a in STEERED_ATTRIBUTES}
    means = class_means(styles, labels, ATTRIBUTES)                                          # [sum K, D]

    cfg = model.cfg
    cfg.text_steering = int(means.shape[0])
    steered = StyleModel(cfg)
    missing, unexpected = steered.load_state_dict(model.state_dict(), strict=False)
    if unexpected or missing != ["steer_means"]:
        raise SystemExit(f"unexpected state: missing {missing}, unexpected {unexpected}")
    steered.steer_means.copy_(means)
    steered.lexicon, steered.hair_lexicon = model.lexicon, model.hair_lexicon
    steered.eval()
    with torch.no_grad():
        after = torch.cat([steered.encode_prompts(captions[i:i + 512], emb[i:i + 512])
                           for i in range(0, len(rows), 512)])
    moved = int(((after - styles).norm(dim=-1) > 1e-6).sum())
    named = sum(1 for r in dictionary_readings(captions, model.lexicon, model.hair_lexicon) if r)
    report = {"template_captions": len(rows), "with_a_dictionary_reading": named, "moved_by_steering": moved,
              "class_counts": {a: torch.bincount(labels[a], minlength=len(ATTRIBUTES[a])).tolist()
                               for a in STEERED_ATTRIBUTES}}
    save_style_model(args.output, steered, {**extra, "steering": {"bank": args.bank, **report}})
    again, _ = load_style_model(args.output)
    state = again.state_dict()
    same = all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    print(json.dumps({"weights_identical": same, **report}))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
