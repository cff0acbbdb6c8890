"""A reconstructed head takes its input image's own colours where the input view sees it
(models/fitting/photo_colour.py): what is seen takes the image's colour, what is hidden behind it, outside the view
or one of the small parts (eyes, lips) keeps the decoder's; places and classes never move."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from models.cameras import canonical_view
from models.errors import PercheadError
from models.fitting.photo_colour import seen_colour
from models.gaussians import Gaussians
from models.palette import palette

SIZE = 64
GREY, RED = 0.5, torch.tensor([1.0, 0.0, 0.0])


def colours(g: Gaussians) -> torch.Tensor:
    return g.sh[:, 0] * 0.28209479177387814 + 0.5


def scene() -> Gaussians:
    """front: a skin disc facing the camera; behind: the same 5 cm behind it; eye: beside the front one; away: 1 m off
    to the side (outside the view)."""
    pal = palette()
    means = torch.tensor([[0.0, 0.0, 0.05], [0.0, 0.0, 0.0], [0.04, 0.0, 0.05], [1.0, 0.0, 0.05]])
    quats = torch.tensor([[1.0, 0.0, 0.0, 0.0]]).repeat(4, 1)
    scales = torch.tensor([[0.03, 0.03, 0.002]]).repeat(4, 1)
    labels = torch.tensor([pal.id_of("skin"), pal.id_of("skin"), pal.id_of("eyes"), pal.id_of("skin")])
    return Gaussians.from_activated(means, quats, scales, torch.full((4,), 0.99), torch.full((4, 3), GREY), labels)


def test_what_the_view_sees_takes_the_image_colour_and_nothing_else_changes() -> None:
    head = scene()
    rgb = RED[:, None, None].expand(3, SIZE, SIZE).clone()
    out = seen_colour(head, rgb, torch.ones(SIZE, SIZE), canonical_view().camera(SIZE))
    c = colours(out)
    assert torch.allclose(c[0], RED, atol=0.05)                 # seen
    assert torch.allclose(c[1], torch.full((3,), GREY), atol=1e-5)  # hidden 5 cm behind
    assert torch.allclose(c[2], torch.full((3,), GREY), atol=1e-5)  # an eye keeps the decoder's colour
    assert torch.allclose(c[3], torch.full((3,), GREY), atol=1e-5)  # outside the view
    for field in ("means", "quats", "log_scales", "opacity_logits", "labels"):
        assert torch.equal(getattr(out, field), getattr(head, field)), field


def test_the_image_alpha_weighs_the_colour_and_an_empty_head_passes() -> None:
    head = scene()
    rgb = RED[:, None, None].expand(3, SIZE, SIZE).clone()
    out = seen_colour(head, rgb * 0, torch.zeros(SIZE, SIZE), canonical_view().camera(SIZE))
    assert torch.allclose(colours(out), colours(head), atol=1e-5)  # no foreground in the image: nothing seen
    empty = Gaussians.from_activated(torch.zeros(0, 3), torch.zeros(0, 4), torch.zeros(0, 3), torch.zeros(0),
                                     torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    assert len(seen_colour(empty, rgb, torch.ones(SIZE, SIZE), canonical_view().camera(SIZE))) == 0


def test_reconstruct_colours_the_seen_head_from_the_image() -> None:
    """The shipped base model on an engine render: with either step (the product's fit, or each seen Gaussian
    taking its pixel: colour_fit_steps 0) the front view's colours come closer to the image's, and the head's
    Gaussians sit where they sat without it."""
    from models.pipeline import HeadPipeline
    from models.render import render
    from models.synthetic.sampler import HeadSampler

    batch = HeadSampler("train", stream=4244).make_batch(1, views=1, size=256)
    alpha = batch.alpha[0, 0]
    straight = batch.rgb[0, 0] / alpha.clamp_min(1e-3)[..., None]  # on black: the head's colour times alpha
    rgba = torch.cat([straight.clamp(0, 1), alpha[..., None]], -1).numpy().astype(np.float32)
    heads = [HeadPipeline(photo_colour=False, device="cpu").reconstruct(rgba),
             HeadPipeline(colour_fit_steps=0, device="cpu").reconstruct(rgba),
             HeadPipeline(device="cpu").reconstruct(rgba)]
    assert torch.equal(heads[0].means, heads[1].means) and torch.equal(heads[0].means, heads[2].means)
    inside = alpha > 0.5
    errors = []
    for head in heads:
        view = render(head, canonical_view().camera(256), classes=False).rgb
        errors.append(float((view[inside] - batch.rgb[0, 0][inside]).abs().mean()))
    assert errors[1] < errors[0] and errors[2] < errors[0]


def test_fitted_colours_reproduce_the_view_and_leave_the_hidden_alone() -> None:
    """fitted_colour: a few preconditioned steps bring the seen disc's colour to the image's, a small disc wholly behind
    it (seen through 1 % transmittance) barely moves, an eye keeps its own colour, a disc outside the view keeps the
    decoder's; places and classes never move."""
    from models.fitting.photo_colour import fitted_colour

    pal = palette()
    means = torch.tensor([[0.0, 0.0, 0.05], [0.0, 0.0, 0.0], [0.0, 0.04, 0.06], [1.0, 0.0, 0.05]])
    scales = torch.tensor([[0.05, 0.05, 0.002], [0.008, 0.008, 0.002], [0.01, 0.01, 0.002], [0.03, 0.03, 0.002]])
    labels = torch.tensor([pal.id_of("skin"), pal.id_of("skin"), pal.id_of("eyes"), pal.id_of("skin")])
    head = Gaussians.from_activated(means, torch.tensor([[1.0, 0.0, 0.0, 0.0]]).repeat(4, 1), scales,
                                    torch.tensor([0.995, 0.99, 0.99, 0.99]), torch.full((4, 3), GREY), labels)
    rgb = RED[:, None, None].expand(3, SIZE, SIZE).clone()
    out = fitted_colour(head, rgb, torch.ones(SIZE, SIZE), canonical_view().camera(SIZE), steps=6)
    c = colours(out)
    assert torch.allclose(c[0], RED, atol=0.1)                        # seen: fitted
    assert (c[1] - GREY).abs().max() < 0.1                            # wholly behind the seen one: barely moved
    assert torch.allclose(c[2], torch.full((3,), GREY), atol=1e-6)    # an eye keeps the decoder's colour
    assert torch.allclose(c[3], torch.full((3,), GREY), atol=1e-6)    # outside the view
    assert torch.equal(out.means, head.means) and torch.equal(out.labels, head.labels)


def test_fitted_colours_are_the_same_under_inference_mode() -> None:
    """The fit takes gradients; a caller that decodes under torch.inference_mode (the bench) gets the same colours,
    not an error."""
    from models.fitting.photo_colour import fitted_colour

    def fit() -> torch.Tensor:  # every input made where the caller is, as a decode under inference mode makes them
        head = Gaussians.from_activated(torch.tensor([[0.0, 0.0, 0.05]]), torch.tensor([[1.0, 0.0, 0.0, 0.0]]),
                                        torch.tensor([[0.05, 0.05, 0.002]]), torch.tensor([0.99]),
                                        torch.full((1, 3), GREY), torch.tensor([palette().id_of("skin")]))
        rgb = RED[:, None, None].expand(3, SIZE, SIZE).clone()
        return colours(fitted_colour(head, rgb, torch.ones(SIZE, SIZE), canonical_view().camera(SIZE), steps=3))

    with torch.no_grad():
        plain = fit()
    with torch.inference_mode():
        inferred = fit()
    assert torch.equal(plain, inferred) and (plain[0] - GREY).abs().max() > 0.1


def test_reconstruct_fits_the_head_to_a_parsed_map_only_when_asked() -> None:
    """``photo_fit`` (experiments/photo_silhouette_fit.py): off (the default), a painted map changes nothing; "fit"
    moves the head towards the map's outline (here a map whose head is wider than the engine head's own)."""
    from models.fitting.front_view import front_class_render
    from models.pipeline import HeadPipeline
    from models.synthetic.sampler import HeadSampler

    batch = HeadSampler("train", stream=4244).make_batch(1, views=1, size=256)
    alpha = batch.alpha[0, 0]
    straight = batch.rgb[0, 0] / alpha.clamp_min(1e-3)[..., None]
    rgba = torch.cat([straight.clamp(0, 1), alpha[..., None]], -1).numpy().astype(np.float32)
    labels = batch.class_map[0, 0].numpy().astype(np.int64)                 # [256, 256] the head's own classes
    hair = palette().id_of("hair")
    wide = labels.copy()
    rows = np.nonzero((labels == hair).any(1))[0]
    wide[rows.min():rows.max() + 1, 20:236][labels[rows.min():rows.max() + 1, 20:236] == 0] = hair  # hair to the sides
    pipe = HeadPipeline(device="cpu", photo_colour=False)
    plain = pipe.reconstruct(rgba)
    assert torch.equal(pipe.reconstruct(rgba, wide).means, plain.means)      # photo_fit "off": as decoded
    pipe.photo_fit = "fit"
    fitted = pipe.reconstruct(rgba, wide)
    covered = lambda g: float((front_class_render(g, 256)[1].cpu() == hair).float().mean())
    assert covered(fitted) > covered(plain) + 0.01
    with pytest.raises(PercheadError, match="square"):
        pipe.reconstruct(rgba, wide[:, :200])  # a map that is not the image's square framing is refused, not stretched
