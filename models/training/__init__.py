"""Training: one loop for every stage, under torchrun (DDP: NCCL on GPUs, gloo on CPU)."""
