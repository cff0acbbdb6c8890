"""State-dict keys as a plain module has them: the one place wrapper prefixes are stripped."""
from __future__ import annotations

from typing import Mapping, TypeVar

V = TypeVar("V")
WRAPPER_PREFIXES = ("_orig_mod.", "module.")  # torch.compile, DistributedDataParallel


def clean_key(key: str) -> str:
    for prefix in WRAPPER_PREFIXES:
        key = key.replace(prefix, "")
    return key


def clean_state_dict(state: Mapping[str, V]) -> dict[str, V]:
    """Strip torch.compile / DDP prefixes so keys match the bare module."""
    return {clean_key(k): v for k, v in state.items()}
