"""Training options, read from a YAML file in configs/ (``perchead train CONFIG.yaml``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from models.errors import PercheadError


@dataclass
class TrainConfig:
    stage: str = "edit"            # base | edit (reconstruction tasks); more stages register in tasks.py
    net: dict[str, Any] = field(default_factory=dict)  # NetConfig fields
    template: str = "assets/template.safetensors"
    init_from: str = ""            # checkpoint whose matching weights start this run (edit <- base)
    # True: ``template`` is a new template, and init_from's weights move onto it (PercHeadNet.transfer_state:
    # tokens from the nearest old patch, point slots from the same place in the patch); False: the checkpoint's own
    # template buffers (and any muted Gaussians in them) win wherever their shapes match
    retemplate: bool = False
    round_template: bool = False   # True: a shaped template's points alone (round Gaussians, unturned)
    style_checkpoint: str = ""     # style model giving the edit model its style vectors
    # parameter-name prefixes to train ("pixel." : the base model's pixel-aligned part alone); empty: all of them
    train_only: list[str] = field(default_factory=list)
    steps: int = 1000
    batch_size: int = 4            # heads per step per process
    views: int = 3                 # rendered views per head; view 0 is the canonical input view
    image_size: int = 256
    lr: float = 3e-4
    weight_decay: float = 0.05
    # learning-rate multiples by parameter-name prefix ({"head.point_bias": 30, "pixel.": 10}); the rest train at the
    # schedule's rate. Adam moves each number by ~lr a step, so at 1.2e-4 a 1,200-step run moves a per-point class
    # logit (net.point_bias) by ~0.1, and a part that starts at zero (net.pixel_aligned) hardly wakes
    lr_scale: dict[str, float] = field(default_factory=dict)
    warmup: int = 100
    grad_clip: float = 1.0
    log_every: int = 20
    eval_every: int = 500
    ckpt_every: int = 500
    out_dir: str = "runs/default"
    export: str = ""               # fp16 checkpoint written at the end (and at each eval)
    seed: int = 0
    device: str = "auto"
    bf16: bool = True              # autocast on GPU; ignored on CPU
    max_minutes: float = 0.0       # stop cleanly (state saved, exported) after this wall time
    loss: dict[str, float] = field(default_factory=dict)
    # class CE with per-class weights share^-power (pixel share of each class in the batch's target
    # maps, normalised to a mean pixel weight of 1, capped): small parts (eyes, lips, brows) count
    # for more than their few pixels; 0 turns it off. Added to the models.losses terms.
    balanced_class_ce: float = 0.0
    class_balance_power: float = 0.5
    class_balance_max: float = 20.0
    # the render's L1 with each pixel weighted by its true class's share^-class_balance_power (the balanced CE's
    # weights): an eye's or a lip's colour counts for more than its few pixels; 0 = off
    balanced_l1: float = 0.0
    # each part's mean rendered colour against its true mean colour, once per part an image shows
    # (models.training.reconstruction.class_colour): the prompt's eye, beard and brow colours; 0 = off
    class_colour: float = 0.0
    # 1 - soft per-image class mIoU (models.losses.image.soft_class_jaccard): the benchmark's mIoU counts
    # each class an image shows once, so an eye sliver at a side view weighs as much as the hair; 0 = off.
    class_jaccard: float = 0.0
    # colour the render cannot show (run 13's streaks: one Gaussian at colour 1.2 drawn as a glowing line on every
    # forehead, docs/quality.md): how far each Gaussian's colour lies outside 0..1, times its opacity, summed over a
    # head (one offender counts whole, not as 1/24,576), mean over heads (models/training/reconstruction.py); 0 = off.
    # On six gallery maps the term is 4-21 for run 10 and 9-26 for run 13 (many Gaussians a little over 1), so a
    # weight near 1e-3 puts it at a third to one times L1 (~0.03); not yet tried in a run
    overbright: float = 0.0
    # colour total variation over the template's points (models.training.reconstruction.colour_roughness): each
    # Gaussian's colour against its patch neighbours' of the same class; against run 17c's grimy skin
    colour_roughness: float = 0.0
    # the adversarial term (models/losses/adversarial.py: weight, feature_matching, lr, start, ramp, views, disc);
    # empty or weight 0: off
    adversarial: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # engine sampler options

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        p = Path(path)
        if not p.is_file():
            raise PercheadError(f"training config {p} not found; see configs/ for examples")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise PercheadError(f"{p} is not valid YAML: {e}") from e
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise PercheadError(f"{p}: unknown options {sorted(unknown)}; known: {sorted(known)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
