"""What a style vector asks for, in words: the colours the style model reads from a prompt or an image.

Why: the seg map sets the head's shapes and the style its colours. When a prompt word is one the text
path does not know, the head comes out in some other colour with no hint why; the app shows this line
under the prompt ("reads as: red hair, green eyes"), so the artist sees the misreading and can
rephrase. It is the attribute head's reading of the vector the decoder gets, not a second parse.
"""
from __future__ import annotations

from torch import Tensor

from models.style.contrastive import attribute_predictions
from models.style.encoders import StyleModel

# (attribute, the part it colours): the colours the text head is trained to carry (models/style/distill.py
# TRAINED_ATTRIBUTES) and `perchead eval` scores. Skin and clothes colour are left out: the attribute head
# reads them from the text path's vectors unreliably ("a red sweater" read as blue while the head renders
# it red), and a wrong hint is worse than none.
READOUT: tuple[tuple[str, str], ...] = (("hair_color", "hair"), ("eye_color", "eyes"))


def describe_style(model: StyleModel, style: Tensor) -> str:
    """"reads as: auburn hair, green eyes" for a style vector [1, D]."""
    pred = attribute_predictions(model, style[:1].detach())[0]
    return "reads as: " + ", ".join(f"{pred[k].replace('_', ' ')} {part}" for k, part in READOUT if k in pred)
