"""The app's edit path (HeadPipeline.edit) and ``perchead eval`` (evaluate_drawn) fit the head to the
painted silhouette alike: the drawn-map score must describe the head the artist sees, framing
normaliser and silhouette fit included."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from models.cameras import canonical_view
from models.evaluation.benchmark import evaluate_drawn
from models.evaluation.drawn_maps import drawn_maps
from models.evaluation.metrics import foreground_weighted_iou
from models.pipeline import CHECKPOINT_DIR, HeadPipeline
from models.render import render

pytestmark = [pytest.mark.usefixtures("one_thread"),
              pytest.mark.skipif(not (CHECKPOINT_DIR / "edit.safetensors").is_file(), reason="no shipped edit model")]


def test_app_and_eval_score_the_same_fitted_head_of_a_reframed_map() -> None:
    pipe = HeadPipeline(device="cpu")
    pipe.budget = None  # the whole fitted head, as the eval scores it (the CPU budget: tests/test_cpu_budget.py)
    net = pipe.net("edit")
    style = torch.zeros(1, net.cfg.style_dim)
    m = next(m for m in drawn_maps(size=256) if m.kind == "shifted")  # reframed: the head is moved back
    labels = torch.from_numpy(m.labels.astype(np.int64))  # [S, S]
    head = pipe.edit(m.labels, style)
    assert pipe.fit.last_framing is not None  # the branch that fits the map as drawn, not as decoded
    app_iou = foreground_weighted_iou(render(head, canonical_view().camera(), classes=True).class_map, labels)
    eval_iou = evaluate_drawn(net, lambda caps: style.expand(len(caps), -1), [m])["edit_front_iou_drawn"]
    assert app_iou == pytest.approx(eval_iou, abs=1e-9), (app_iou, eval_iou)
