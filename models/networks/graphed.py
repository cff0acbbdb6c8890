"""The edit network as one CUDA graph: the live editor's decode without per-kernel launch cost.

One eager forward of the small edit model is ~200 kernel launches, which on a GPU cost more than
the arithmetic. The network has fixed shapes once background patches are masked instead of
dropped (``ViTTrunk.fixed_shape``), so one forward at batch 1 is captured and replayed with new
inputs copied into static buffers. Matrix work runs in half precision (autocast); the Gaussian
head stays float32 (positions need it). Outputs are cloned, since the next replay overwrites
the graph's buffers while the previous head may still be on screen.
"""
from __future__ import annotations

import torch
from torch import Tensor

from models.device import is_accelerator
from models.networks.decoder import PredictedHeads
from models.networks.perchead import PercHeadNet

WARMUP_RUNS = 3  # eager runs on a side stream before capture (allocator and kernel selection settle)


class GraphedEditNet:
    """``net(labels [1, S, S] long, style [1, D]) -> PredictedHeads`` replayed from a CUDA graph."""

    def __init__(self, net: PercHeadNet, half: torch.dtype = torch.float16) -> None:
        if net.cfg.kind != "edit":
            raise ValueError("only the edit network has inputs of a fixed shape")
        device = next(net.parameters()).device
        if not is_accelerator(device):
            raise ValueError("CUDA graphs need the network on a CUDA device")
        self.net = net.eval()
        self.half = half
        net.encoder.trunk.fixed_shape = True
        size = net.cfg.image_size
        self.labels = torch.zeros(1, size, size, dtype=torch.long, device=device)  # [1, S, S]
        self.labels[:, size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1  # a plausible map for warm-up
        self.style = torch.zeros(1, net.cfg.style_dim, device=device)  # [1, D]
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_RUNS):
                self._forward()
        torch.cuda.current_stream(device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = self._forward()

    def _forward(self) -> PredictedHeads:
        with torch.inference_mode(), torch.autocast(self.labels.device.type, dtype=self.half, cache_enabled=False):
            return self.net(self.labels, self.style)

    def __call__(self, labels: Tensor, style: Tensor) -> PredictedHeads:
        """labels [1, S, S] class ids, style [1, D] -> a fresh PredictedHeads (device tensors)."""
        with torch.inference_mode():
            self.labels.copy_(labels, non_blocking=True)
            self.style.copy_(style, non_blocking=True)
            self.graph.replay()
            o = self.out
            return PredictedHeads(o.means.clone(), o.quats.clone(), o.log_scales.clone(), o.opacity_logits.clone(),
                                  o.sh_dc.clone(), o.class_logits.clone())
